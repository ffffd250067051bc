import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergedCacheHint } from '../../../src/catalog/cache-hint.js';
import { source } from './snapshots.js';

const hinted = (id: string, ttlMs: number, cacheScope: 'public' | 'private') =>
  source(id, ['t'], { snapshot: { cacheHints: { tools: { ttlMs, cacheScope } } } });

describe('mergedCacheHint', () => {
  it('takes the smallest ttl; public only when every server says public', () => {
    assert.deepEqual(
      mergedCacheHint([hinted('a', 60_000, 'public'), hinted('b', 5_000, 'public')], 'tools'),
      {
        ttlMs: 5_000,
        cacheScope: 'public',
      },
    );
    assert.deepEqual(
      mergedCacheHint([hinted('a', 60_000, 'public'), hinted('b', 90_000, 'private')], 'tools'),
      {
        ttlMs: 60_000,
        cacheScope: 'private',
      },
    );
  });

  it('a server that gave no hint (every legacy server) makes the list uncacheable', () => {
    assert.deepEqual(mergedCacheHint([hinted('a', 60_000, 'public'), source('legacy', ['t'])], 'tools'), {
      ttlMs: 0,
      cacheScope: 'private',
    });
    assert.deepEqual(mergedCacheHint([hinted('a', 60_000, 'public')], 'prompts'), {
      ttlMs: 0,
      cacheScope: 'private',
    });
  });

  it('no servers: nothing to limit the built-ins, still not cached past the moment', () => {
    assert.deepEqual(mergedCacheHint([], 'tools'), { ttlMs: 0, cacheScope: 'public' });
  });
});
