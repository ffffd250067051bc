/**
 * find_tasks on a busy board (issue 13): 10,000 tasks and 50 agents, through the same Tasks
 * service the coordinator's tool calls, on the memory backend and on a loopback Redis (one
 * redis-server, the runner's). Events go to a no-op bus. Before measuring, every agent's answer is
 * checked against the rule applied to the whole board (what find did before it had an index); that
 * whole-board scan is also timed, a few calls per round, for comparison. Bounded in rounds, samples
 * and time; returns rows, prints nothing.
 */
import { performance } from 'node:perf_hooks';

import { RedisLockBackend } from '../../src/coordination/locks/redis.js';
import { connectStore, waitReady } from '../../src/coordination/locks/redis-store.js';
import { MemoryLockBackend } from '../../src/coordination/locks/memory.js';
import { Locks } from '../../src/coordination/locks/service.js';
import { LIMITS } from '../../src/coordination/limits.js';
import { scanKeys, type RedisClient } from '../../src/coordination/redis-connect.js';
import { candidateTasks } from '../../src/coordination/tasks/board.js';
import { MemoryTaskBackend } from '../../src/coordination/tasks/memory.js';
import { RedisTaskBackend, tasksSlotKey } from '../../src/coordination/tasks/redis.js';
import { Tasks } from '../../src/coordination/tasks/service.js';
import type { TaskBackend } from '../../src/coordination/tasks/types.js';
import type { LockBackend } from '../../src/coordination/locks/types.js';
import { silentLogger } from '../../src/shared/logger.js';
import { errorText, naRow, roundsRow, RoundBudget, type RowTarget } from '../rows.js';
import { percentile } from '../stats.js';
import type { BenchRow, SectionContext } from '../types.js';
import { noopBus } from './locks.js';

const TASKS = 10_000;
const AGENTS = 50;
const FILES = 5_000;
const LIMIT = 10;
const MAX_LIMIT = LIMITS.findLimit;
const CAPABILITIES = ['ts', 'go', 'py', 'sql', 'docs', 'review'];
const TARGETS: Record<Kind, RowTarget> = {
  memory: { op: '<=', value: 1 },
  redis: { op: '<=', value: 5 },
};

type Kind = 'memory' | 'redis';

interface Agent {
  id: string;
  capabilities: string[];
}

interface Board {
  kind: Kind;
  tasks: Tasks;
  locks: Locks;
  /** Tasks open, claimed and completed once filled. */
  counts: Record<string, number>;
  close(): Promise<void>;
}

/** The same board for both backends: a seeded generator (mulberry32). */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

const AGENT_LIST: Agent[] = Array.from({ length: AGENTS }, (_, i) => ({
  id: `agent-${String(i).padStart(2, '0')}`,
  // Three of the six capabilities each, in every combination the index walks past.
  capabilities: CAPABILITIES.filter((_, c) => (i * 7 + c * 3) % 6 < 3),
}));

/**
 * 10,000 tasks: priorities −3…3; half need no capability, the rest one (a tenth two); a fifth
 * depend on an earlier task; 1–3 files each out of 5,000. Then every fifth task that can be is
 * claimed and completed, each agent claims the best task it finds, and each agent locks one
 * more file with lock_file.
 */
async function fill(tasks: Tasks, locks: Locks, log: (m: string) => void): Promise<Record<string, number>> {
  const rnd = seeded(13);
  const file = () => `src/mod-${rnd.int(FILES / 50)}/file-${rnd.int(50)}.ts`;
  const specs = Array.from({ length: TASKS }, (_, i) => {
    const needs = rnd.next() < 0.5 ? [] : [CAPABILITIES[rnd.int(6)]!];
    if (needs.length > 0 && rnd.next() < 0.2) needs.push(CAPABILITIES[rnd.int(6)]!);
    const batchStart = i - (i % 250);
    return {
      taskId: `task-${String(i).padStart(5, '0')}`,
      title: `task ${i}`,
      priority: rnd.int(7) - 3,
      capabilities: needs,
      dependsOn:
        batchStart > 0 && rnd.next() < 0.2 ? [`task-${String(rnd.int(batchStart)).padStart(5, '0')}`] : [],
      files: Array.from({ length: 1 + rnd.int(3) }, file),
    };
  });
  // Batches of 250 in flight; a dependency is always in an earlier batch.
  for (let at = 0; at < TASKS; at += 250) {
    const created = await Promise.all(specs.slice(at, at + 250).map((s) => tasks.create(s, 'lead')));
    if (created.some((r) => !r.ok)) throw new Error('board fill: a create was refused');
  }
  log(`${TASKS} tasks created`);
  for (let at = 0; at < TASKS; at += 250) {
    await Promise.all(
      specs.slice(at, at + 250).map(async (s, j) => {
        if ((at + j) % 5 !== 0) return;
        const agent = AGENT_LIST[(at + j) % AGENTS]!.id;
        // A dependency still open or a file in another claim refuses it: then it stays open.
        if ((await tasks.claim(s.taskId, agent)).ok) await tasks.complete(s.taskId, agent);
      }),
    );
  }
  for (const agent of AGENT_LIST) {
    const [best] = await tasks.find(agent.id, agent.capabilities, 1);
    if (best) await tasks.claim(best.taskId, agent.id);
    await locks.acquire(file(), agent.id, { ttlMs: 600_000 });
  }
  const counts: Record<string, number> = {};
  for (const t of await tasks.list()) counts[t.status] = (counts[t.status] ?? 0) + 1;
  log(`board: ${JSON.stringify(counts)}`);
  return counts;
}

async function openBoard(kind: Kind, redisUrl: string | undefined, log: (m: string) => void): Promise<Board> {
  let lockBackend: LockBackend;
  let taskBackend: TaskBackend;
  let done = async () => {};
  if (kind === 'memory') {
    const memoryLocks = new MemoryLockBackend();
    lockBackend = memoryLocks;
    taskBackend = new MemoryTaskBackend(memoryLocks);
  } else {
    if (!redisUrl) throw new Error('no redis-server');
    const redis = connectStore(redisUrl, silentLogger);
    if (!(await waitReady(redis, 10_000))) throw new Error(`redis not reachable at ${redisUrl}`);
    const prefix = `bench-board:${process.pid}:${Date.now()}:`;
    lockBackend = new RedisLockBackend(redis, prefix);
    taskBackend = new RedisTaskBackend(redis, prefix);
    done = () => cleanup(redis, prefix);
  }
  const bus = noopBus();
  const locks = new Locks({ backend: lockBackend, bus });
  // A long lock TTL: no renewal timer runs while measuring.
  const tasks = new Tasks({ backend: taskBackend, locks, bus, lockTtlMs: 600_000 });
  const close = async () => {
    tasks.close();
    locks.close();
    await done();
  };
  try {
    const counts = await fill(tasks, locks, (m) => log(`${kind}: ${m}`));
    return { kind, tasks, locks, counts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** find as it was before the index: the rule over every record, then the candidates' locks. */
async function scanFind(board: Board, agent: Agent): Promise<string[]> {
  const candidates = candidateTasks(await board.tasks.list(), agent.id, agent.capabilities);
  const found: string[] = [];
  for (let at = 0; at < candidates.length && found.length < LIMIT; at += 32) {
    const slice = candidates.slice(at, at + 32);
    const held = await board.locks.getMany(slice.flatMap((t) => t.files));
    for (const task of slice) {
      if (found.length >= LIMIT) break;
      if (task.files.every((f) => (held.get(f)?.holder ?? agent.id) === agent.id)) found.push(task.taskId);
    }
  }
  return found;
}

async function timed(samples: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await call(i);
    times.push(performance.now() - started);
  }
  return times;
}

export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  const started = performance.now();
  const boards: Board[] = [];
  const failed: Partial<Record<Kind, string>> = {};
  try {
    for (const kind of ['memory', 'redis'] as const) {
      try {
        const board = await openBoard(kind, ctx.redisUrl, ctx.log);
        boards.push(board);
        // The figures count only if the answers are right: each agent's against the whole-board rule.
        for (const agent of AGENT_LIST) {
          const found = (await board.tasks.find(agent.id, agent.capabilities, LIMIT)).map((t) => t.taskId);
          const expected = await scanFind(board, agent);
          if (JSON.stringify(found) !== JSON.stringify(expected)) {
            throw new Error(
              `${kind}: ${agent.id} found ${found.join(',')}, the rule says ${expected.join(',')}`,
            );
          }
        }
      } catch (error) {
        failed[kind] = errorText(error);
        ctx.log(`${kind}: ${failed[kind]}`);
      }
    }
    const samples = ctx.quick ? 200 : 500;
    const scans = ctx.quick ? 2 : 5;
    const budget = new RoundBudget(started + ctx.budgetMs - 10_000, ctx.quick ? 2 : 5);
    const perRound = new Map<string, number[]>();
    const note = (key: string, value: number) => perRound.set(key, [...(perRound.get(key) ?? []), value]);
    const agentOf = (i: number) => AGENT_LIST[i % AGENTS]!;
    for (let round = 0; budget.next(); round++) {
      // Alternate which backend goes first, so a burst of machine noise hits both alike.
      for (const board of round % 2 === 0 ? boards : [...boards].reverse()) {
        const find = (i: number) => board.tasks.find(agentOf(i).id, agentOf(i).capabilities, LIMIT);
        await timed(50, find); // warm
        const times = await timed(samples, find);
        note(`${board.kind} p50`, percentile(times, 0.5));
        note(`${board.kind} p95`, percentile(times, 0.95));
        const wide = (i: number) => board.tasks.find(agentOf(i).id, agentOf(i).capabilities, MAX_LIMIT);
        note(`${board.kind} max`, percentile(await timed(samples / 5, wide), 0.5));
        note(`${board.kind} scan`, percentile(await timed(scans, (i) => scanFind(board, agentOf(i))), 0.5));
      }
      budget.end();
    }
    const rows: BenchRow[] = [];
    for (const kind of ['memory', 'redis'] as const) {
      const label = `${TASKS.toLocaleString('en')} tasks, ${AGENTS} agents (${kind})`;
      const board = boards.find((b) => b.kind === kind);
      if (!board) {
        rows.push(naRow(`find_tasks p50, ${label}`, 'ms', TARGETS[kind], failed[kind] ?? 'not run'));
        continue;
      }
      const counts = Object.entries(board.counts)
        .map(([status, n]) => `${n} ${status}`)
        .join(', ');
      rows.push(
        roundsRow(
          `find_tasks p50, ${label}`,
          perRound.get(`${kind} p50`) ?? [],
          'ms',
          TARGETS[kind],
          `limit ${LIMIT}, ${samples} calls per round over the 50 agents; board: ${counts}`,
        ),
        roundsRow(`find_tasks p95, ${label}`, perRound.get(`${kind} p95`) ?? [], 'ms'),
        roundsRow(
          `find_tasks p50 with limit ${MAX_LIMIT} (the largest), ${label}`,
          perRound.get(`${kind} max`) ?? [],
          'ms',
          undefined,
          `${samples / 5} calls per round`,
        ),
        roundsRow(
          `whole-board scan p50, ${label}`,
          perRound.get(`${kind} scan`) ?? [],
          'ms',
          undefined,
          `find before the index: every record, the rule, then the locks (${scans} calls per round)`,
        ),
      );
    }
    return rows;
  } finally {
    for (const board of boards) await board.close();
  }
}

async function cleanup(redis: RedisClient, prefix: string): Promise<void> {
  try {
    const keys = await scanKeys(redis, `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    keys.push(tasksSlotKey(prefix, 'open'), tasksSlotKey(prefix, 'claimed-files'));
    for (let at = 0; at < keys.length; at += 500) await redis.del(...keys.slice(at, at + 500));
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
