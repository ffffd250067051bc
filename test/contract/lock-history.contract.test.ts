/**
 * Issue 4's proof, in one process: three coordinators on one store (each with its own store
 * connection and bus on Redis), six agents doing random lock/unlock/claim/complete/release on 20
 * files for a bounded time. The recorded history must show never two holders of one file at once
 * and every acquired lock released or expired — also when Redis is killed and restarted midway
 * (with AOF, as a production Redis holding locks must run; see store-faults.test.ts).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';

import { CoordinationUnavailableError } from '../../src/shared/errors.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { memoryEnv, redisEnv, type MakeEnv, type Peer } from './coordination-env.js';
import { checkLockHistory, pairKey } from './lock-history.js';
import { rng } from '../helpers/rng.js';

const FILES = Array.from({ length: 20 }, (_, i) => `src/file-${i}.ts`);
const TASKS = 12;
const AGENTS_PER_PEER = 2;

interface ChurnStats {
  ops: number;
  granted: number;
  unavailable: number;
  /** file/holder pairs touched by an operation whose outcome is unknown. */
  uncertain: Set<string>;
}

async function agentLoop(
  peer: Peer,
  agentId: string,
  until: number,
  random: () => number,
  stats: ChurnStats,
) {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const mine = new Map<string, string[]>();
  while (Date.now() < until) {
    const roll = random();
    let files: string[] = [];
    try {
      stats.ops += 1;
      if (roll < 0.4) {
        files = [pick(FILES)];
        const result = await peer.locks.acquire(files[0]!, agentId, {
          ttlMs: 100 + Math.floor(random() * 300),
        });
        if (result.ok) stats.granted += 1;
      } else if (roll < 0.65) {
        files = [pick(FILES)];
        await peer.locks.release(files[0]!, agentId);
      } else if (roll < 0.85) {
        const taskId = `T-${Math.floor(random() * TASKS)}`;
        files = [pick(FILES), pick(FILES)];
        const result = await peer.tasks.claim(taskId, agentId, files);
        if (result.ok) {
          stats.granted += 1;
          mine.set(taskId, result.task.files);
        }
      } else if (mine.size > 0) {
        const [taskId, taskFiles] = pick([...mine]);
        files = taskFiles;
        mine.delete(taskId);
        if (random() < 0.5) await peer.tasks.complete(taskId, agentId, { by: agentId });
        else await peer.tasks.release(taskId, agentId);
      }
    } catch (error) {
      if (!(error instanceof CoordinationUnavailableError)) throw error;
      stats.unavailable += 1;
      for (const file of files) stats.uncertain.add(pairKey(file, agentId));
      await sleep(20);
    }
    await sleep(Math.floor(random() * 4));
  }
}

async function churn(
  makeEnv: MakeEnv,
  options: { durationMs: number; seed: number; midway?: () => Promise<void> },
) {
  const env = await makeEnv();
  try {
    const peers = [await env.peer(), await env.peer(), await env.peer()];
    const stats: ChurnStats = { ops: 0, granted: 0, unavailable: 0, uncertain: new Set() };
    const until = Date.now() + options.durationMs;
    const loops: Array<Promise<void>> = [];
    peers.forEach((peer, p) => {
      for (let a = 0; a < AGENTS_PER_PEER; a++) {
        const agentId = `agent-${p}-${a}`;
        loops.push(
          peer.agents
            .register(agentId, { name: 'churn' })
            .then(() => agentLoop(peer, agentId, until, rng(options.seed + p * 10 + a), stats)),
        );
      }
    });
    if (options.midway) {
      await sleep(options.durationMs / 3);
      await options.midway();
    }
    await Promise.all(loops);
    // Let the last short locks expire and be reported, then leave (releasing the rest).
    await sleep(700);
    for (const peer of peers) await peer.close();
    const history = await env.events.replay();
    return { stats, history, report: checkLockHistory(history, stats.uncertain) };
  } finally {
    await env.cleanup();
  }
}

function assertClean(result: Awaited<ReturnType<typeof churn>>): void {
  const { report, stats } = result;
  assert.deepEqual(report.violations, [], 'never two holders of one file at once');
  assert.deepEqual(report.dangling, [], 'every acquired lock released or expired');
  assert.ok(report.locks >= 50, `enough locks to mean something (${report.locks} in ${stats.ops} ops)`);
  const types = new Set(result.history.map((e) => e.type));
  for (const type of [
    'file:locked',
    'file:unlocked',
    'file:lock_expired',
    'task:claimed',
    'task:completed',
  ]) {
    assert.ok(types.has(type as never), `history has ${type}`);
  }
}

describe('lock history under churn', () => {
  const servers: RedisServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('memory: three coordinators, one holder per file, every lock ended', async () => {
    assertClean(await churn(memoryEnv, { durationMs: 2_000, seed: 7 }));
  });

  it('redis: three coordinators, one holder per file, every lock ended', async () => {
    const server = await startRedis();
    servers.push(server);
    assertClean(
      await churn(
        redisEnv(() => server.url),
        { durationMs: 2_500, seed: 11 },
      ),
    );
  });

  it('redis with AOF killed and restarted midway: the coordinators recover by themselves', async () => {
    const server = await startRedis({ aof: true });
    servers.push(server);
    let grantedBeforeRestart = 0;
    const result = await churn(
      redisEnv(() => server.url),
      {
        durationMs: 4_000,
        seed: 23,
        midway: async () => {
          await server.kill();
          await sleep(400);
          await server.restart();
        },
      },
    );
    grantedBeforeRestart = result.stats.granted;
    assertClean(result);
    assert.ok(result.stats.unavailable > 0, 'the outage was felt');
    assert.ok(grantedBeforeRestart > 0);
    const lastLock = result.history.filter((e) => e.type === 'file:locked').at(-1);
    const restartedAt = Date.now() - 4_000;
    assert.ok(lastLock && Date.parse(lastLock.timestamp) > restartedAt, 'locks granted after the restart');
  });
});
