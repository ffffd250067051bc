import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from '../../../src/downstream/coalesce.js';
import type { DownstreamSnapshot } from '../../../src/downstream/types.js';
import { stdio, waitFor, withPool } from './helpers.js';

describe('Coalescer', () => {
  it('runs at most one per key at a time, with one more queued however many triggers arrive', async () => {
    const runs: string[] = [];
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    let inFlight = 0;
    let peak = 0;
    const c = new Coalescer<string>(async (key) => {
      runs.push(key);
      peak = Math.max(peak, ++inFlight);
      await gate;
      inFlight--;
    });
    const first = c.trigger('tools');
    const waits = Array.from({ length: 1000 }, () => c.trigger('tools'));
    void c.trigger('prompts');
    assert.deepEqual(runs, ['tools', 'prompts']);
    const open = release;
    gate = new Promise<void>((resolve) => (release = resolve));
    open();
    await first;
    await waitFor(() => runs.length === 3, 5_000, 'the queued run');
    release();
    await Promise.all(waits);
    assert.deepEqual(runs, ['tools', 'prompts', 'tools']);
    assert.equal(peak, 2, 'one per key');
  });

  it('goes on after a run that failed', async () => {
    let calls = 0;
    const c = new Coalescer<string>(async () => {
      calls++;
      throw new Error('boom');
    });
    await c.trigger('k');
    await c.trigger('k');
    assert.equal(calls, 2);
  });
});

describe('a downstream flooding list_changed', () => {
  it('gets a bounded number of tools/list back, and the catalog still ends up current', async () => {
    await withPool([['noisy', stdio(['--flood'])]], async (pool) => {
      const noisy = pool.get('noisy')!;
      pool.startAll();
      const client = await noisy.whenReady(20_000);
      const catalogs: DownstreamSnapshot[] = [];
      noisy.on('catalog', (snapshot: DownstreamSnapshot) => catalogs.push(snapshot));
      const count = async () =>
        (
          (await client.callTool({ name: 'list_calls', arguments: {} })).structuredContent as {
            count: number;
          }
        ).count;
      const before = await count();
      await client.callTool({ name: 'flood', arguments: { count: 5000 } });
      await waitFor(() => catalogs.length > 0, 20_000, 'a refreshed catalog');
      // Let every notification arrive and every queued refresh finish.
      let last = -1;
      for (let stable = 0; stable < 3;) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const now = await count();
        stable = now === last ? stable + 1 : 0;
        last = now;
      }
      const relists = last - before;
      assert.ok(relists >= 1 && relists <= 20, `${relists} tools/list for 5000 list_changed`);
    });
  });
});
