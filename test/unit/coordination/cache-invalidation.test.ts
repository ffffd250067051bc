/** invalidate_cache's glob, and the router's result cache dropping what it matches. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compileCachePattern } from '../../../src/coordination/cache-invalidation.js';
import { ResultCache } from '../../../src/router/result-cache.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';

describe('cache patterns', () => {
  it('match with * (any run) and ? (one character), the rest literally', () => {
    const cases: Array<[string, string, boolean]> = [
      ['memory__*', 'memory__read_graph', true],
      ['memory__*', 'memoryx__read', false],
      ['*__search*', 'docs__search_all', true],
      ['*__search*', 'docs__research', false],
      ['docs__rea?', 'docs__read', true],
      ['docs__rea?', 'docs__reads', false],
      ['*', 'anything', true],
      ['a*b*c', 'aXbYbZc', true],
      ['a*b*c', 'aXbYbZ', false],
      ['exact.name', 'exact.name', true],
      ['exact.name', 'exactXname', false],
    ];
    for (const [pattern, name, expected] of cases) {
      assert.equal(compileCachePattern(pattern)(name), expected, `${pattern} ~ ${name}`);
    }
  });

  it('stays fast on a pathological pattern', () => {
    const match = compileCachePattern(`${'*a'.repeat(60)}b`);
    const started = performance.now();
    assert.equal(match('a'.repeat(200)), false);
    assert.ok(performance.now() - started < 100);
  });

  it('refuses what is not a valid glob, naming the pattern', () => {
    for (const bad of ['', 'a b', '[abc]', '{a,b}', 'back\\slash', 'x'.repeat(257), 7]) {
      assert.throws(
        () => compileCachePattern(bad),
        (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('pattern:'),
      );
    }
  });

  it('the result cache drops exactly the (server, tool) pairs matched', () => {
    const cache = new ResultCache({
      servers: {
        a: { cache: { ttlMs: 60_000, tools: ['x', 'y'] } },
        b: { cache: { ttlMs: 60_000, tools: ['x'] } },
      },
    });
    const result = { content: [{ type: 'text' as const, text: 'r' }] };
    cache.set('a', 'x', { n: 1 }, result);
    cache.set('a', 'x', { n: 2 }, result);
    cache.set('a', 'y', {}, result);
    cache.set('b', 'x', {}, result);
    assert.equal(
      cache.invalidateWhere((server, tool) => tool === 'x' && server === 'a'),
      2,
    );
    assert.equal(cache.get('a', 'x', { n: 1 }), undefined);
    assert.deepEqual(cache.get('a', 'y', {}), result);
    assert.deepEqual(cache.get('b', 'x', {}), result);
    assert.equal(cache.stats().entries, 2);
  });
});
