/**
 * The shared store going away and coming back: lock and task calls fail fast with a clear error
 * (never a local grant), everything recovers by itself, and with AOF an acknowledged lock
 * survives a crash.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { MemoryBus } from '../../src/coordination/bus/index.js';
import { coordinationTools, createCoordination, type Coordination } from '../../src/coordination/index.js';
import type { CoordinationEvent, EventBus } from '../../src/coordination/types.js';
import { CoordinationUnavailableError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitUntil } from './coordination-env.js';

/** An embedded bus with a recorder: these tests are about the store, not event delivery. */
function recordingBus(): EventBus & { events: CoordinationEvent[] } {
  const bus = new MemoryBus({
    capacity: 1_000,
    source: 'test',
    agentId: '-',
    logger: silentLogger,
  });
  const events: CoordinationEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return Object.assign(bus, { events });
}

async function coordinate(server: RedisServer, bus = recordingBus()): Promise<Coordination> {
  return createCoordination({
    redisUrl: server.url,
    prefix: 'faults:',
    lockTtlMs: 60_000,
    agentTtlMs: 600,
    workspaceRoot: '/repo',
    bus,
    source: 'coord-faults',
  });
}

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

function assertUnavailable(outcome: { ms: number; error: unknown }, what: string): void {
  assert.ok(outcome.error instanceof CoordinationUnavailableError, `${what}: ${String(outcome.error)}`);
  assert.match(outcome.error.message, /shared store unreachable/);
  // commandTimeout (1 s) is the worst case; usually the closed socket is noticed at once.
  assert.ok(outcome.ms < 1_500, `${what} took ${Math.round(outcome.ms)} ms`);
}

describe('shared store faults', () => {
  const servers: RedisServer[] = [];
  const open: Coordination[] = [];
  after(async () => {
    for (const c of open) await c.close();
    for (const s of servers) await s.stop();
  });

  it('rejects lock and task calls fast while Redis is down, then recovers by itself', async () => {
    const server = await startRedis();
    servers.push(server);
    const coordination = await coordinate(server);
    open.push(coordination);
    await coordination.agents.register('agent-a', { name: 'test' });
    assert.equal(coordination.redisStatus(), 'connected');
    assert.ok((await coordination.locks.acquire('a.ts', 'agent-a', { ttlMs: 60_000 })).ok);

    await server.kill();
    assertUnavailable(
      await elapsed(() => coordination.locks.acquire('b.ts', 'agent-a', { ttlMs: 60_000 })),
      'acquire',
    );
    await waitUntil(() => coordination.redisStatus() === 'disconnected', 'disconnected status');
    assertUnavailable(await elapsed(() => coordination.locks.release('a.ts', 'agent-a')), 'release');
    assertUnavailable(await elapsed(() => coordination.locks.list()), 'list');
    assertUnavailable(await elapsed(() => coordination.tasks.claim('T-1', 'agent-a', ['c.ts'])), 'claim');
    assertUnavailable(await elapsed(() => coordination.tasks.list()), 'list tasks');
    assertUnavailable(await elapsed(() => coordination.tasks.create({ title: 't' }, 'agent-a')), 'create');
    assertUnavailable(await elapsed(() => coordination.tasks.find('agent-a', [])), 'find');
    assertUnavailable(await elapsed(() => coordination.tasks.detectConflicts(['a.ts'], 'agent-a')), 'detect');
    assertUnavailable(await elapsed(() => coordination.tasks.logStep('T-1', 'agent-a', 'm')), 'log_step');
    assertUnavailable(await elapsed(() => coordination.state.set('k', 1, 'agent-a')), 'set_state');
    assertUnavailable(await elapsed(() => coordination.state.get('k')), 'get_state');
    assertUnavailable(await elapsed(() => coordination.state.delete('k', 'agent-a')), 'delete_state');
    assertUnavailable(
      await elapsed(() => coordination.agents.update('agent-a', { status: 'busy' })),
      'register',
    );
    assert.equal((await coordination.agents.get('agent-a'))?.status, 'idle', 'a refused profile is not kept');
    const lockTool = coordinationTools({
      locks: coordination.locks,
      tasks: coordination.tasks,
      agents: coordination.agents,
      state: coordination.state,
      caches: coordination.caches,
      agentId: () => 'agent-a',
      workspaceRoot: '/repo',
      lockTtlMs: 60_000,
    }).find((t) => t.name === 'lock_file')!;
    assertUnavailable(await elapsed(() => lockTool.handler({ file: 'src/x.ts' })), 'lock_file tool');

    await server.restart();
    await waitUntil(() => coordination.redisStatus() === 'connected', 'reconnected', 10_000);
    // No AOF here: the old lock is gone with the crash, and nothing was granted while down.
    assert.deepEqual(await coordination.locks.list(), []);
    assert.ok((await coordination.locks.acquire('b.ts', 'agent-a', { ttlMs: 60_000 })).ok);
    assert.ok((await coordination.tasks.claim('T-1', 'agent-a', ['c.ts'])).ok);
    // The heartbeat finds its key gone and registers the agent again.
    const deadline = Date.now() + 3_000;
    while (!(await coordination.agents.list()).some((a) => a.agentId === 'agent-a')) {
      assert.ok(Date.now() < deadline, 'agent registered again after the restart');
      await sleep(50);
    }
  });

  it('starts while Redis is down and connects by itself when it comes up', async () => {
    const server = await startRedis();
    servers.push(server);
    await server.kill();
    const coordination = await coordinate(server);
    open.push(coordination);
    assert.equal(coordination.redisStatus(), 'disconnected');
    assertUnavailable(
      await elapsed(() => coordination.locks.acquire('a.ts', 'agent-a', { ttlMs: 60_000 })),
      'acquire before Redis',
    );
    await server.restart();
    await waitUntil(() => coordination.redisStatus() === 'connected', 'connected', 10_000);
    assert.ok((await coordination.locks.acquire('a.ts', 'agent-a', { ttlMs: 60_000 })).ok);
  });

  it('fails a call that Redis does not answer within the command timeout', async () => {
    const server = await startRedis();
    servers.push(server);
    const coordination = await coordinate(server);
    open.push(coordination);
    const admin = new Redis(server.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      assertUnavailable(
        await elapsed(() => coordination.locks.acquire('a.ts', 'agent-a', { ttlMs: 60_000 })),
        'acquire during CLIENT PAUSE',
      );
    } finally {
      admin.disconnect();
    }
  });

  it('reports a lock lost in a crash as expired once the store is back', async () => {
    const server = await startRedis();
    servers.push(server);
    const bus = recordingBus();
    const coordination = await coordinate(server, bus);
    open.push(coordination);
    assert.ok((await coordination.locks.acquire('a.ts', 'agent-a', { ttlMs: 300 })).ok);
    await server.kill();
    await sleep(500);
    assert.equal(bus.events.filter((e) => e.type === 'file:lock_expired').length, 0, 'undecided while down');
    await server.restart();
    await waitUntil(() => bus.events.some((e) => e.type === 'file:lock_expired'), 'file:lock_expired', 5_000);
  });

  /*
   * An acknowledged lock survives a Redis crash only with `appendonly yes` and
   * `appendfsync always` (what startRedis({ aof: true }) sets): the write is on disk before Redis
   * answers. With the default `appendfsync everysec`, up to one second of acknowledged locks can be
   * lost in a crash; without AOF (RDB snapshots only) everything since the last snapshot is.
   */
  it('keeps an acknowledged lock across a crash and restart with AOF (appendfsync always)', async () => {
    const server = await startRedis({ aof: true });
    servers.push(server);
    const coordination = await coordinate(server);
    open.push(coordination);
    const granted = await coordination.locks.acquire('src/a.ts', 'agent-a', {
      reason: 'edit',
      ttlMs: 60_000,
    });
    assert.ok(granted.ok);
    const claimed = await coordination.tasks.claim('T-1', 'agent-a', ['src/b.ts']);
    assert.ok(claimed.ok);

    await server.kill();
    await server.restart();
    await waitUntil(() => coordination.redisStatus() === 'connected', 'reconnected', 10_000);

    const lock = await coordination.locks.get('src/a.ts');
    assert.equal(lock?.holder, 'agent-a');
    assert.equal(lock?.token, granted.lock.token);
    const refused = await coordination.locks.acquire('src/a.ts', 'agent-b', { ttlMs: 60_000 });
    assert.deepEqual(refused, {
      ok: false,
      file: 'src/a.ts',
      holder: 'agent-a',
      reason: 'edit',
      expiresAt: granted.lock.expiresAt,
    });
    assert.equal((await coordination.tasks.get('T-1'))?.status, 'claimed');
    assert.equal((await coordination.locks.get('src/b.ts'))?.holder, 'agent-a');
  });
});
