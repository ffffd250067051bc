import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { ResultCache } from '../../../src/router/result-cache.js';

const ok = (text: string): CallToolResult => ({ content: [{ type: 'text', text }] });

function cache(maxEntries?: number) {
  const clock = { time: 0, now: () => clock.time };
  const servers = {
    docs: { cache: { ttlMs: 1_000, tools: ['search', 'fetch'] } },
    slow: { cache: { ttlMs: 5_000, tools: ['search'] } },
    plain: {},
  };
  return { clock, cache: new ResultCache({ servers, clock, maxEntries }) };
}

describe('ResultCache', () => {
  it('caches only the tools a server lists', () => {
    const { cache: c } = cache();
    assert.equal(c.shouldCache('docs', 'search'), true);
    assert.equal(c.shouldCache('docs', 'write'), false);
    assert.equal(c.shouldCache('plain', 'search'), false, 'never on by default');
    assert.equal(c.shouldCache('nobody', 'search'), false);
    c.set('docs', 'write', {}, ok('x'));
    c.set('plain', 'search', {}, ok('x'));
    assert.equal(c.get('docs', 'write', {}), undefined);
    assert.equal(c.get('plain', 'search', {}), undefined);
    assert.deepEqual(c.stats(), { hits: 0, misses: 0, entries: 0 }, 'uncacheable calls are not counted');
  });

  it('counts a miss, then hits for the same arguments in any key order', () => {
    const { cache: c } = cache();
    assert.equal(c.get('docs', 'search', { q: 'x', limit: 2 }), undefined);
    c.set('docs', 'search', { q: 'x', limit: 2 }, ok('found'));
    assert.deepEqual(c.get('docs', 'search', { limit: 2, q: 'x' }), ok('found'));
    assert.deepEqual(c.get('docs', 'search', { q: 'x', limit: 2 }), ok('found'));
    assert.equal(c.get('docs', 'search', { q: 'y', limit: 2 }), undefined, 'other arguments');
    assert.equal(c.get('slow', 'search', { q: 'x', limit: 2 }), undefined, 'other server');
    assert.equal(c.get('docs', 'fetch', { q: 'x', limit: 2 }), undefined, 'other tool');
    assert.deepEqual(c.stats(), { hits: 2, misses: 4, entries: 1 });
  });

  it('treats absent arguments as {} and hands out copies', () => {
    const { cache: c } = cache();
    c.set('docs', 'fetch', undefined, ok('page'));
    const hit = c.get('docs', 'fetch', {});
    assert.deepEqual(hit, ok('page'));
    (hit!.content[0] as { text: string }).text = 'mutated';
    assert.deepEqual(c.get('docs', 'fetch', undefined), ok('page'));
  });

  it('expires an entry after its server ttl', () => {
    const { clock, cache: c } = cache();
    c.set('docs', 'search', { q: 'x' }, ok('docs'));
    c.set('slow', 'search', { q: 'x' }, ok('slow'));
    clock.time = 999;
    assert.deepEqual(c.get('docs', 'search', { q: 'x' }), ok('docs'));
    clock.time = 1_000;
    assert.equal(c.get('docs', 'search', { q: 'x' }), undefined, 'docs ttl is 1 s');
    assert.deepEqual(c.get('slow', 'search', { q: 'x' }), ok('slow'), 'slow ttl is 5 s');
    assert.deepEqual(c.stats(), { hits: 2, misses: 1, entries: 1 });
  });

  it('never stores an isError result', () => {
    const { cache: c } = cache();
    c.set('docs', 'search', { q: 'x' }, { ...ok('boom'), isError: true });
    assert.equal(c.get('docs', 'search', { q: 'x' }), undefined);
    c.set('docs', 'search', { q: 'x' }, ok('fine'));
    c.set('docs', 'search', { q: 'x' }, { ...ok('boom'), isError: true });
    assert.deepEqual(c.get('docs', 'search', { q: 'x' }), ok('fine'), 'an error does not replace a good one');
  });

  it('is bounded: the least recently used entry goes first', () => {
    const { cache: c } = cache(2);
    c.set('docs', 'search', { n: 1 }, ok('1'));
    c.set('docs', 'search', { n: 2 }, ok('2'));
    c.get('docs', 'search', { n: 1 });
    c.set('docs', 'search', { n: 3 }, ok('3'));
    assert.equal(c.stats().entries, 2);
    assert.deepEqual(c.get('docs', 'search', { n: 1 }), ok('1'));
    assert.equal(c.get('docs', 'search', { n: 2 }), undefined);
  });

  it('configure() keeps unchanged servers and empties changed or removed ones', () => {
    const { cache: c } = cache();
    c.set('docs', 'search', {}, ok('docs'));
    c.set('slow', 'search', {}, ok('slow'));
    c.configure({
      docs: { cache: { ttlMs: 1_000, tools: ['fetch', 'search'] } },
      slow: { cache: { ttlMs: 9_000, tools: ['search'] } },
    });
    assert.deepEqual(c.get('docs', 'search', {}), ok('docs'));
    assert.equal(c.get('slow', 'search', {}), undefined);
    c.configure({});
    assert.equal(c.shouldCache('docs', 'search'), false);
    assert.equal(c.stats().entries, 0);
  });

  it('invalidate() drops one server only', () => {
    const { cache: c } = cache();
    c.set('docs', 'search', {}, ok('docs'));
    c.set('docs', 'fetch', {}, ok('docs'));
    c.set('slow', 'search', {}, ok('slow'));
    c.invalidate('docs');
    assert.equal(c.stats().entries, 1);
    assert.deepEqual(c.get('slow', 'search', {}), ok('slow'));
  });
});
