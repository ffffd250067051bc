/**
 * Redis Cluster: the slot of the coordination keys' hash tag moves from one master to another
 * (CLUSTER SETSLOT … IMPORTING / MIGRATING, MIGRATE key by key, SETSLOT … NODE) while agents on
 * two coordinators claim multi-file tasks. Between every key moved, a round of concurrent claims
 * runs, so claims meet every mixed state: the tasks hash on the source with some locks already on
 * the target, and the other way round. Each claim must succeed, be refused, or fail with
 * CoordinationUnavailableError — within a bound, never hanging — and no task or file may be granted
 * to two agents. After the move, claims work on the new master.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { CoordinationBackends } from '../../src/coordination/index.js';
import { connectStore, waitReady } from '../../src/coordination/locks/redis-store.js';
import { openRedisStore, redisBackends, type RedisStore } from '../../src/coordination/redis-backends.js';
import { CLAIM, FINISH, RELEASE_ALL } from '../../src/coordination/tasks/redis-scripts.js';
import { tasksSlotKey } from '../../src/coordination/tasks/redis.js';
import { storeKeyPrefix } from '../../src/coordination/redis-target.js';
import { CoordinationUnavailableError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { cli, startRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis } from '../helpers/redis-server.js';

const TTL = 120_000;
/** A claim that neither answers nor fails within this is a hang (the store's own bound is ~1 s). */
const HANG_MS = 8_000;
const AGENTS = ['agent-a', 'agent-b', 'agent-c', 'agent-d'];
const spec = { title: 't', capabilities: [], priority: 0, dependsOn: [] };
/** The keys of the slot move in this many MIGRATE steps, a round of claims after each. */
const STEPS = 5;
/** Rounds of tasks: one per step, one with every key moved, the rest after the move. */
const ROUNDS = STEPS + 4;

type Outcome = 'granted' | 'refused' | 'unavailable';

interface Grant {
  taskId: string;
  agentId: string;
  files: string[];
}

/** `CLUSTER NODES` as id and port per master. */
async function masters(port: number): Promise<Array<{ id: string; port: number }>> {
  return (await cli(port, 'CLUSTER', 'NODES'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((parts) => parts[2]?.includes('master'))
    .map((parts) => ({ id: parts[0]!, port: Number(parts[1]!.split(':')[1]!.split('@')[0]) }));
}

async function claimOnce(
  backends: CoordinationBackends,
  taskId: string,
  agentId: string,
  grants: Grant[],
  unavailable: string[],
): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`claim of ${taskId} by ${agentId} hung`)), HANG_MS);
  });
  try {
    const result = await Promise.race([backends.tasks.claim(taskId, agentId, [], TTL), hang]);
    if (!result.ok) return 'refused';
    grants.push({ taskId, agentId, files: result.locks.map((l) => l.lock.file).sort() });
    return 'granted';
  } catch (error) {
    assert.ok(
      error instanceof CoordinationUnavailableError,
      `a claim mid-migration failed with something else than CoordinationUnavailableError: ${String(error)}`,
    );
    unavailable.push(error.message);
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

describe('Redis Cluster: the coordination slot migrated while multi-file tasks are claimed', () => {
  it('every claim succeeds, is refused or errors clearly; no double grant; claims work afterwards', async (t) => {
    const cluster = await startRedisCluster(3, 0);
    const stores: RedisStore[] = [];
    after(async () => {
      for (const s of stores) await s.quit();
      await cluster.stop();
    });
    const target = { cluster: cluster.urls };
    const prefix = 'migrate:mcp:';
    const tagged = storeKeyPrefix(target, prefix);
    // Two coordinators, as the app opens its store; agents a, c on the first, b, d on the second.
    for (let i = 0; i < 2; i++) stores.push(await openRedisStore(target, prefix, silentLogger));
    const store = (agent: string) => stores[AGENTS.indexOf(agent) % 2]!.backends;
    const first = stores[0]!.backends;

    // Held before the move: agent-z has claimed three tasks (nine locks on the source).
    for (let i = 0; i < 3; i++) {
      const files = [0, 1, 2].map((j) => `held/${i}/${j}.ts`);
      assert.ok((await first.tasks.create({ ...spec, taskId: `held-${i}`, files }, 'agent-z')).ok);
      assert.ok((await first.tasks.claim(`held-${i}`, 'agent-z', [], TTL)).ok);
    }
    // One round per MIGRATE step and a few more: five tasks of three files over a ring of five fresh
    // files (any two overlap, so in a round that Redis serves they all go to the agent first served),
    // plus one over one of agent-z's files (always refused).
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < 5; i++) {
        const files = [i, i + 1, i + 2].map((j) => `r${r}/f${j % 5}.ts`);
        assert.ok((await first.tasks.create({ ...spec, taskId: `r${r}-t${i}`, files }, 'agent-z')).ok);
      }
      const files = [`r${r}/own.ts`, `held/${r % 3}/${r % 3}.ts`];
      assert.ok((await first.tasks.create({ ...spec, taskId: `r${r}-z`, files }, 'agent-z')).ok);
    }

    const slotKey = `${tagged}tasks`;
    const slot = await cli(Number(new URL(cluster.urls[0]!).port), 'CLUSTER', 'KEYSLOT', slotKey);
    const sourcePort = await cluster.masterOf(slotKey);
    const all = await masters(sourcePort);
    const source = all.find((m) => m.port === sourcePort)!;
    const dest = all.find((m) => m.port !== sourcePort)!;

    const grants: Grant[] = [];
    const unavailable: string[] = [];
    const outcomes: Record<Outcome, number> = { granted: 0, refused: 0, unavailable: 0 };
    const midLocks: string[] = [];
    const byRound: Outcome[][] = [];
    /** The messages of the claims that were unavailable, by round. */
    const unavailableIn: string[][] = [];
    /** Each agent claims `perAgent` of the round's tasks, from a different start, all at once. */
    const round = async (r: number, perAgent: number) => {
      const tasks = [...Array(5).keys()].map((i) => `r${r}-t${i}`).concat(`r${r}-z`);
      await Promise.all(
        AGENTS.map(async (agent, k) => {
          for (let i = 0; i < perAgent; i++) {
            const taskId = tasks[(i + k * 2) % tasks.length]!;
            const outcome = await claimOnce(store(agent), taskId, agent, grants, (unavailableIn[r] ??= []));
            outcomes[outcome] += 1;
            (byRound[r] ??= []).push(outcome);
          }
        }),
      );
    };

    await cli(dest.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await cli(source.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', dest.id);
    const inSlot = async () =>
      (await cli(source.port, 'CLUSTER', 'GETKEYSINSLOT', slot, '1000')).split('\n').filter(Boolean);
    const chunk = Math.ceil((await inSlot()).length / STEPS);
    let r = 0;
    for (let keys = await inSlot(); keys.length > 0; keys = await inSlot()) {
      const batch = keys.slice(0, chunk);
      const moved = await cli(
        source.port,
        ...['MIGRATE', '127.0.0.1', String(dest.port), '', '0', '5000'],
        'KEYS',
        ...batch,
      );
      assert.equal(moved, 'OK', `MIGRATE ${batch.join(' ')}`);
      // A single-key command follows ASK to the node that has (or will have) the key.
      const file = `mid/${r}.ts`;
      assert.ok(
        (await first.locks.acquire(file, 'agent-y', { ttlMs: TTL })).ok,
        `lock ${file} mid-migration`,
      );
      midLocks.push(file);
      await round(r++, 2);
    }
    // Every key moved, the slot still in transition.
    await round(r++, 2);
    for (const m of all) await cli(m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', dest.id);
    assert.equal(await cluster.masterOf(slotKey), dest.port, 'the slot moved');
    const midRounds = r;
    while (r < ROUNDS) await round(r++, 6);

    // No double grant: a task granted to one agent only, a file in one agent's grants only.
    const taskHolder = new Map<string, string>();
    const fileHolder = new Map<string, string>();
    for (const g of grants) {
      assert.equal(taskHolder.get(g.taskId) ?? g.agentId, g.agentId, `${g.taskId} granted twice`);
      taskHolder.set(g.taskId, g.agentId);
      for (const f of g.files) {
        assert.equal(fileHolder.get(f) ?? g.agentId, g.agentId, `${f} granted to two agents`);
        fileHolder.set(f, g.agentId);
      }
    }
    for (const f of [...fileHolder.keys()]) assert.ok(!f.startsWith('held/'), `agent-z's ${f} granted away`);
    // What Redis holds agrees: every claimed task's locks are its claimer's.
    const tasks = await first.tasks.list('claimed');
    for (const task of tasks) {
      if (task.agentId === 'agent-z') continue;
      assert.equal(
        taskHolder.get(task.taskId),
        task.agentId,
        `${task.taskId} claimed without a reported grant`,
      );
      for (const f of task.files) assert.equal((await first.locks.get(f))?.holder, task.agentId, f);
    }
    for (let i = 0; i < 3; i++) assert.equal((await first.tasks.get(`held-${i}`))?.agentId, 'agent-z');
    assert.ok(outcomes.granted > 0, `some claims granted (${JSON.stringify(outcomes)})`);
    unavailable.push(...unavailableIn.flat());
    for (const message of unavailable) assert.match(message, /^shared store unreachable: /);
    assert.ok(
      unavailable.some((m) => m.includes('slot is being migrated')),
      'a claim refused by the migration says so',
    );
    for (const file of midLocks) assert.equal((await first.locks.get(file))?.holder, 'agent-y', file);
    // The rounds after the move ran on the new master: nothing said the slot was migrating (a
    // loaded machine may still time a command out), and no round granted its tasks to two agents.
    let grantedAfter = 0;
    for (let r = midRounds; r < ROUNDS; r++) {
      const migrating = (unavailableIn[r] ?? []).filter((m) => m.includes('migrated'));
      assert.deepEqual(migrating, [], `round ${r} after the move: ${byRound[r]!.join(',')}`);
      const granted = new Set(grants.filter((g) => g.taskId.startsWith(`r${r}-`)).map((g) => g.agentId));
      assert.ok(granted.size <= 1, `round ${r} after the move granted to ${[...granted].join(',')}`);
      grantedAfter += granted.size;
    }
    assert.ok(grantedAfter > 0, 'claims were granted after the move');

    // After the move: a fresh multi-file task is claimed, completed, and its files freed.
    const files = ['after/a.ts', 'after/b.ts', 'after/c.ts'];
    assert.ok((await first.tasks.create({ ...spec, taskId: 'after', files }, 'agent-z')).ok);
    const claim = await stores[1]!.backends.tasks.claim('after', 'agent-b', [], TTL);
    assert.ok(claim.ok, 'claim after the migration');
    const done = await stores[0]!.backends.tasks.finish('after', 'agent-b', 'completed');
    assert.ok(done.ok);
    if (done.ok) assert.equal(done.releasedLocks.length, 3);
    assert.equal(await first.locks.get('after/a.ts'), undefined);
    t.diagnostic(`claims: ${JSON.stringify(outcomes)}; ${[...new Set(unavailable)].join(' | ')}`);
  });
});

describe('task scripts declare every lock key they touch', () => {
  it('a script run without the lock keys of the task it claims changes nothing and says stale', async () => {
    const server = await startRedis();
    const redis = connectStore(server.url, silentLogger);
    after(async () => {
      redis.disconnect();
      await server.stop();
    });
    assert.ok(await waitReady(redis, 10_000));
    const backends = redisBackends(redis, 'declared:');
    const files = ['a.ts', 'b.ts'];
    assert.ok((await backends.tasks.create({ ...spec, taskId: 't', files }, 'agent-z')).ok);
    // What a caller that read the task before its files changed would declare: none of them.
    // Every task script's first three keys: the tasks hash and find_tasks' two indexes.
    const taskKeys = [
      'declared:tasks',
      tasksSlotKey('declared:', 'open'),
      tasksSlotKey('declared:', 'claimed-files'),
    ];
    const args = ['t', 'agent-a', TTL, 'declared:lock:', 'tok', '[]', 'task t', ''];
    assert.deepEqual(await CLAIM.run(redis, taskKeys, args), ['stale']);
    assert.equal((await backends.tasks.get('t'))?.status, 'open');
    assert.deepEqual(await redis.keys('declared:lock:*'), []);
    // Through the backend, which reads the files first, the same claim goes through.
    const claim = await backends.tasks.claim('t', 'agent-a', [], TTL);
    assert.ok(claim.ok);
    assert.deepEqual((await redis.keys('declared:lock:*')).sort(), [
      'declared:lock:a.ts',
      'declared:lock:b.ts',
    ]);
    const finish = ['t', 'agent-a', 'completed', 'declared:lock:', '', ''];
    assert.deepEqual(await FINISH.run(redis, [...taskKeys, 'declared:lock:a.ts'], finish), ['stale']);
    assert.equal((await backends.tasks.get('t'))?.status, 'claimed');
    assert.deepEqual(await RELEASE_ALL.run(redis, taskKeys, ['agent-a', 'declared:lock:', '']), ['stale']);
    const done = await backends.tasks.finish('t', 'agent-a', 'completed');
    assert.ok(done.ok);
    assert.deepEqual(await redis.keys('declared:lock:*'), []);
  });
});
