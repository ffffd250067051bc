/**
 * Redis beyond one node, when a node dies: a Cluster master killed mid-run (its replica takes
 * over) and a Sentinel master killed (the sentinel promotes the replica). Meanwhile every call
 * either fails with CoordinationUnavailableError or is refused because the first agent holds the
 * files — never a second grant — and afterwards the coordinator works again without a restart.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { CoordinationBackends } from '../../src/coordination/index.js';
import { connectStore, waitReady } from '../../src/coordination/locks/redis-store.js';
import { redisBackends } from '../../src/coordination/redis-backends.js';
import type { RedisClient } from '../../src/coordination/redis-connect.js';
import { storeKeyPrefix, type RedisTarget } from '../../src/coordination/redis-target.js';
import { RedisBus } from '../../src/coordination/bus/redis.js';
import { CoordinationUnavailableError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { cli, startRedisCluster, startRedisSentinel } from '../helpers/redis-cluster.js';
import { collect, waitForStatus } from './bus-suite.js';

const TTL = 60_000;

async function store(target: RedisTarget, prefix: string) {
  const redis: RedisClient = connectStore(target, silentLogger);
  assert.ok(await waitReady(redis, 10_000), 'store connected');
  return { redis, backends: redisBackends(redis, storeKeyPrefix(target, prefix)) };
}

/** Until the replica on `replicaPort` has everything the master on `masterPort` has written so far. */
async function waitReplicated(masterPort: number, replicaPort: number): Promise<void> {
  const target = Number(/master_repl_offset:(\d+)/.exec(await cli(masterPort, 'INFO', 'replication'))?.[1]);
  for (let i = 0; i < 200; i++) {
    const info = await cli(replicaPort, 'INFO', 'replication');
    if (Number(/slave_repl_offset:(\d+)/.exec(info)?.[1] ?? -1) >= target) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the replica :${replicaPort} did not catch up with :${masterPort}`);
}

/**
 * B keeps trying to take what A holds until Redis answers again: each try either errors with
 * CoordinationUnavailableError (counted) or is refused naming A. Returns the errors seen.
 */
async function hammerUntilAnswered(a: string, b: CoordinationBackends, deadlineMs: number): Promise<number> {
  let errors = 0;
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const lock = await b.locks.acquire('src/a.ts', 'agent-b', { ttlMs: TTL });
      assert.equal(lock.ok, false, 'a second grant of a held file');
      if (!lock.ok) assert.equal(lock.holder, a);
      const claim = await b.tasks.claim('t2', 'agent-b', [], TTL);
      assert.equal(claim.ok, false, 'a claim over files another task holds');
      return errors;
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assert.ok(
        error instanceof CoordinationUnavailableError,
        `expected CoordinationUnavailableError, got ${String(error)}`,
      );
      assert.match(error.message, /shared store unreachable/);
      errors += 1;
      if (Date.now() > deadline)
        throw new Error(`Redis did not come back (${errors} errors)`, { cause: error });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Two coordinators' buses on the target; after the failover an event still goes from one to the other. */
async function buses(target: RedisTarget, prefix: string) {
  const make = (source: string) =>
    new RedisBus({
      redisUrl: target,
      prefix,
      streamMaxLen: 100,
      source,
      agentId: source,
      logger: silentLogger,
      reconnectMaxDelayMs: 100,
    });
  const one = make('bus-1');
  const two = make('bus-2');
  after(async () => {
    await one.close();
    await two.close();
  });
  await waitForStatus(one, 'connected');
  await waitForStatus(two, 'connected');
  return {
    deliversAfterFailover: async () => {
      await waitForStatus(one, 'connected', 20_000);
      await waitForStatus(two, 'connected', 20_000);
      const heard = collect(two, 'state:*');
      one.publish({ type: 'state:changed', data: { key: 'after-failover' } });
      await heard.waitFor(1);
      assert.deepEqual(heard.events[0]!.data, { key: 'after-failover' });
    },
  };
}

/** A claims a three-file task and locks a fourth file; t2 overlaps A's task. */
async function holdFiles(a: CoordinationBackends): Promise<void> {
  const spec = { title: 't', files: [], capabilities: [], priority: 0, dependsOn: [] };
  assert.ok(
    (await a.tasks.create({ ...spec, taskId: 't1', files: ['src/a.ts', 'src/b.ts', 'src/c.ts'] }, 'agent-a'))
      .ok,
  );
  assert.ok((await a.tasks.create({ ...spec, taskId: 't2', files: ['src/c.ts', 'src/d.ts'] }, 'agent-a')).ok);
  const claim = await a.tasks.claim('t1', 'agent-a', [], TTL);
  assert.ok(claim.ok, 'multi-file claim');
  if (claim.ok)
    assert.deepEqual(claim.locks.map((l) => l.lock.file).sort(), ['src/a.ts', 'src/b.ts', 'src/c.ts']);
  assert.ok((await a.locks.acquire('src/e.ts', 'agent-a', { ttlMs: TTL })).ok);
  const held = await a.locks.getMany(['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/e.ts', 'src/z.ts']);
  assert.deepEqual([...held.keys()].sort(), ['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/e.ts']);
}

/** After the failover: A's work is intact, A can finish, then B gets the files. */
async function afterFailover(a: CoordinationBackends, b: CoordinationBackends): Promise<void> {
  assert.equal((await b.locks.get('src/e.ts'))?.holder, 'agent-a');
  assert.equal((await b.tasks.get('t1'))?.agentId, 'agent-a');
  const done = await a.tasks.finish('t1', 'agent-a', 'completed');
  assert.ok(done.ok);
  if (done.ok) assert.equal(done.releasedLocks.length, 3);
  const claim = await b.tasks.claim('t2', 'agent-b', [], TTL);
  assert.ok(claim.ok, 'claimable once A completed');
  assert.ok((await b.locks.acquire('src/a.ts', 'agent-b', { ttlMs: TTL })).ok);
  assert.equal((await b.locks.acquire('src/e.ts', 'agent-b', { ttlMs: TTL })).ok, false);
  assert.deepEqual(
    (await b.locks.list()).map((l) => `${l.file}=${l.holder}`),
    ['src/a.ts=agent-b', 'src/c.ts=agent-b', 'src/d.ts=agent-b', 'src/e.ts=agent-a'],
  );
}

describe('Redis Cluster: a master killed mid-run', () => {
  it('errors clearly while the slot has no master, never grants twice, works after the failover', async () => {
    const cluster = await startRedisCluster();
    after(() => cluster.stop());
    const target = { cluster: cluster.urls };
    const prefix = 'failover:mcp:';
    const a = await store(target, prefix);
    const b = await store(target, prefix);
    after(() => {
      a.redis.disconnect();
      b.redis.disconnect();
    });
    const bus = await buses(target, prefix);
    await holdFiles(a.backends);
    const master = await cluster.masterOf(`${storeKeyPrefix(target, prefix)}lock:src/a.ts`);
    await waitReplicated(master, await cluster.replicaOf(master));

    await cluster.kill(master);
    const errors = await hammerUntilAnswered('agent-a', b.backends, 20_000);
    assert.ok(errors > 0, 'calls failed while the master was gone');
    await cluster.waitHealthy();
    assert.notEqual(await cluster.masterOf(`${storeKeyPrefix(target, prefix)}lock:src/a.ts`), master);
    await afterFailover(a.backends, b.backends);
    await bus.deliversAfterFailover();
  });
});

describe('Redis Sentinel: the master killed', () => {
  it('errors clearly until the sentinel promotes the replica, never grants twice, then works', async () => {
    const group = await startRedisSentinel();
    after(() => group.stop());
    const target = { sentinels: group.sentinels, name: group.name };
    const prefix = 'sentinel:mcp:';
    const a = await store(target, prefix);
    const b = await store(target, prefix);
    after(() => {
      a.redis.disconnect();
      b.redis.disconnect();
    });
    const bus = await buses(target, prefix);
    await holdFiles(a.backends);
    await waitReplicated(group.masterPort, group.replicaPort);

    const killed = await group.killMaster();
    const errors = await hammerUntilAnswered('agent-a', b.backends, 20_000);
    assert.ok(errors > 0, 'calls failed while the master was gone');
    assert.equal(await group.waitFailover(killed), group.replicaPort);
    await afterFailover(a.backends, b.backends);
    await bus.deliversAfterFailover();
  });
});
