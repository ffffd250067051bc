import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DownstreamStatus } from '../../../src/downstream/types.js';
import { isAlive, stdio, waitFor, withPool } from './helpers.js';

async function pidOf(pool: Parameters<Parameters<typeof withPool>[1]>[0], id: string): Promise<number> {
  const client = await pool.get(id)!.whenReady(10_000);
  const { structuredContent } = await client.callTool({ name: 'whoami' });
  return (structuredContent as { pid: number }).pid;
}

describe('createPool', () => {
  it('starts eager servers in parallel: a slow one never holds up the rest', async () => {
    const servers: Array<[string, ReturnType<typeof stdio>]> = [
      ['slow', stdio(['--name', 'slow', '--start-delay', '2500'])],
      ['fast', stdio(['--name', 'fast'])],
      ['later', stdio(['--name', 'later'], { startup: 'lazy' })],
    ];
    await withPool(servers, async (pool) => {
      const statuses: Array<[string, DownstreamStatus]> = [];
      pool.on('status', (id, status) => statuses.push([id, status]));
      assert.deepEqual(
        pool.all().map((d) => d.id),
        ['slow', 'fast', 'later'],
      );
      pool.startAll();
      await pool.get('fast')!.whenReady(10_000);
      assert.equal(pool.get('slow')!.status, 'starting', 'fast must not wait for slow');
      assert.equal(pool.get('later')!.status, 'idle');
      await pool.get('slow')!.whenReady(10_000);
      assert.deepEqual(
        statuses.filter(([, s]) => s === 'connected').map(([id]) => id),
        ['fast', 'slow'],
      );
      assert.equal(pool.get('nope'), undefined);
    });
  });

  it('add() starts a new eager server; remove() stops it and forgets it', async () => {
    await withPool([['one', stdio(['--name', 'one'])]], async (pool) => {
      const statuses: Array<[string, DownstreamStatus]> = [];
      pool.on('status', (id, status) => statuses.push([id, status]));
      pool.startAll();
      await pool.get('one')!.whenReady(10_000);
      const two = pool.add('two', stdio(['--name', 'two']));
      assert.equal(two.status, 'starting', 'added after startAll: starts at once');
      assert.throws(() => pool.add('two', stdio([])), /already in the pool/);
      const pid = await pidOf(pool, 'two');
      await pool.remove('two');
      assert.equal(pool.get('two'), undefined);
      assert.deepEqual(
        pool.all().map((d) => d.id),
        ['one'],
      );
      assert.equal(isAlive(pid), false);
      assert.deepEqual(statuses.at(-1), ['two', 'stopped']);
      await pool.remove('never-there');
    });
  });

  it('stopAll() leaves no child and no grandchild behind, within 5 s', async () => {
    const servers: Array<[string, ReturnType<typeof stdio>]> = [
      ['a', stdio(['--name', 'a', '--spawn-grandchild'])],
      ['b', stdio(['--name', 'b', '--spawn-grandchild'])],
      ['c', stdio(['--name', 'c'])],
    ];
    await withPool(servers, async (pool, recorded) => {
      pool.startAll();
      const pids = await Promise.all(['a', 'b', 'c'].map((id) => pidOf(pool, id)));
      await waitFor(
        () => recorded.stderr.filter((s) => s.line.startsWith('grandchild ')).length === 2,
        5_000,
      );
      const grandchildren = recorded.stderr
        .filter((s) => s.line.startsWith('grandchild '))
        .map((s) => Number(s.line.split(' ')[1]));
      const everyone = [...pids, ...grandchildren];
      assert.ok(everyone.every(isAlive));
      const started = Date.now();
      await pool.stopAll();
      assert.ok(Date.now() - started < 5_000, `stopAll took ${Date.now() - started} ms`);
      assert.deepEqual(everyone.filter(isAlive), [], 'processes survived stopAll');
      assert.ok(pool.all().every((d) => d.status === 'stopped'));
    });
  });

  it('killAllSync() kills every child group on the spot', async () => {
    await withPool([['k', stdio(['--spawn-grandchild'])]], async (pool, recorded) => {
      pool.startAll();
      const pid = await pidOf(pool, 'k');
      await waitFor(() => recorded.stderr.some((s) => s.line.startsWith('grandchild ')), 5_000);
      const grandchild = Number(
        recorded.stderr.find((s) => s.line.startsWith('grandchild '))!.line.split(' ')[1],
      );
      pool.killAllSync();
      await waitFor(() => !isAlive(pid) && !isAlive(grandchild), 2_000, 'group to die');
    });
  });
});
