/**
 * Issue 4's proof, end to end: three coordinator OS processes (`node dist/main.js serve`, each
 * driven over stdio by the SDK client like an IDE does, each its own agent) share one real
 * redis-server. For a bounded time every agent does random lock / unlock / claim_task (1–3 files) /
 * complete / release on 20 files with a 2 s lock TTL, so locks are refused, released, extended and
 * expire. A third of the way in, Redis is killed (SIGKILL) and restarted a second later.
 *
 * Proven:
 * - while Redis is down every coordination call fails with a clear "unreachable" error, never a
 *   grant, and health shows `redis: disconnected`;
 * - afterwards the same coordinator processes serve locks again by themselves;
 * - the event history in `<prefix>events:stream` shows never two holders of one file at once and
 *   every acquired lock released or expired (checked on the store's acquiredAt / releasedAt /
 *   expiresAt, since expiry and events flushed after the outage are published late);
 * - every grant and release a client was told about is in that history (nothing lost in the outage).
 *
 * Redis runs with `appendonly yes` + `appendfsync always`: a restarted Redis must still hold every
 * lock it acknowledged (and the stream), or a second agent could be granted a file whose holder
 * was told it has it. Without AOF the restart loses both, by design of Redis, not of the product.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CoordinationEvent } from '../../src/coordination/types.js';
import { checkLockHistory, pairKey } from '../contract/lock-history.js';
import {
  alive,
  fixtureServer,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { rng } from '../helpers/rng.js';

const PREFIX = 'proof:';
const FILES = Array.from({ length: 20 }, (_, i) => `src/file-${String(i).padStart(2, '0')}.ts`);
const TASK_POOL = 60;
const LOCK_TTL_MS = 2_000;
/** Random work, in total; Redis dies a third of the way in and is down for OUTAGE_MS. */
const RUN_MS = 12_000;
const OUTAGE_AT_MS = 4_000;
const OUTAGE_MS = 1_000;
const AGENTS = ['proof-agent-0', 'proof-agent-1', 'proof-agent-2'] as const;

type Outcome = 'ok' | 'refused' | 'unavailable';

interface CallRecord {
  agent: string;
  tool: string;
  files: string[];
  start: number;
  end: number;
  outcome: Outcome;
  /** A grant: a lock or a claim given. */
  granted: boolean;
  message: string;
  /** The answer's structuredContent, when there was an answer. */
  answer?: Body;
}

interface Peer {
  agent: string;
  coordinator: StartedCoordinator;
  /** Plain locks this agent believes it holds. */
  held: Set<string>;
  /** Tasks this agent claimed: taskId → files. */
  tasks: Map<string, string[]>;
}

interface Body {
  locked?: boolean;
  unlocked?: boolean;
  claimed?: boolean;
  holder?: string;
  file?: string;
  acquiredAt?: string;
  expiresAt?: string;
  releasedAt?: string;
  reason?: string;
  task?: { taskId: string; files: string[]; agentId: string; status: string };
  tasks?: Array<{ taskId: string; agentId: string; status: string; files: string[] }>;
  locks?: Array<{ file: string; holder: string }>;
  dependencies?: { redis: string };
}

const body = (r: CallToolResult) => (r.structuredContent ?? {}) as Body;
const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/**
 * A store error raised before anything was sent ("shared store unreachable (redis <status>[: why])") is a
 * certain no-op. Any other unavailability (the connection died with the command in flight, a
 * timeout) may or may not have been applied by Redis, so no event may tell of it.
 */
const FAIL_FAST = /unreachable \(redis [a-z]+[):]|unreachable: LOADING\b/i;

describe('issue 4 proof: three coordinator processes, one Redis, killed and restarted midway', () => {
  const dir = tempDir('mcp-coord-proof-');
  let redis: RedisServer;
  let inspect: Redis;
  const peers: Peer[] = [];
  const calls: CallRecord[] = [];
  /** file/holder pairs touched by an operation whose outcome is unknown. */
  const uncertain = new Set<string>();

  before(async () => {
    redis = await startRedis({ aof: true });
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await inspect.connect();
    for (const [i, agent] of AGENTS.entries()) {
      const config = writeConfig(
        dir.path,
        {
          servers: { [`tools-${i}`]: fixtureServer(`tools-${i}`) },
          coordination: {
            redis: redis.url,
            prefix: PREFIX,
            lockTtlMs: LOCK_TTL_MS,
            workspaceRoot: dir.path,
            // Keep the whole history: the check reads every event of the run.
            streamMaxLen: 1_000_000,
          },
        },
        `coordinator-${i}.yml`,
      );
      const coordinator = await startCoordinator(config, {
        env: { MCP_AGENT_ID: agent, MCP_COORDINATOR_LOG_LEVEL: 'info' },
        clientName: `proof-client-${i}`,
      });
      peers.push({ agent, coordinator, held: new Set(), tasks: new Map() });
    }
  });

  after(async () => {
    await Promise.all(peers.map((p) => p.coordinator.close()));
    inspect?.disconnect();
    await redis?.stop();
    dir.remove();
  });

  /** One tool call, classified; anything but a result or an "unreachable" error fails the test. */
  async function call(
    peer: Peer,
    tool: string,
    args: Record<string, unknown>,
    files: string[],
  ): Promise<{ record: CallRecord; result?: CallToolResult }> {
    const start = Date.now();
    let result: CallToolResult | undefined;
    let outcome: Outcome;
    let message = '';
    try {
      result = (await peer.coordinator.client.callTool({
        name: `coordinator__${tool}`,
        arguments: args,
      })) as CallToolResult;
      message = textOf(result);
      if (result.isError && /unreachable/i.test(message)) outcome = 'unavailable';
      else outcome = result.isError ? 'refused' : 'ok';
    } catch (error) {
      if (!(error instanceof McpError) || !/unreachable/i.test(error.message)) {
        throw new Error(
          `${peer.agent} ${tool} ${JSON.stringify(args)} failed unexpectedly: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
      outcome = 'unavailable';
      message = error.message;
    }
    const granted =
      outcome === 'ok' &&
      result !== undefined &&
      (body(result).locked === true || body(result).claimed === true);
    const record: CallRecord = {
      agent: peer.agent,
      tool,
      files,
      start,
      end: Date.now(),
      outcome,
      granted,
      message,
      ...(result && outcome !== 'unavailable' ? { answer: body(result) } : {}),
    };
    calls.push(record);
    if (outcome === 'unavailable' && !FAIL_FAST.test(message)) {
      for (const file of files) uncertain.add(pairKey(file, peer.agent));
    }
    return outcome === 'unavailable' ? { record } : { record, result: result! };
  }

  async function agentLoop(peer: Peer, index: number, until: number): Promise<void> {
    const random = rng(0x9e3779b9 + index * 7919);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const others = AGENTS.filter((a) => a !== peer.agent) as string[];
    while (Date.now() < until) {
      const roll = random();
      let unavailable = false;
      if (roll < 0.4) {
        const file = pick(FILES);
        const ttlMs = random() < 0.5 ? 300 + Math.floor(random() * 1_200) : undefined;
        const { record, result } = await call(
          peer,
          'lock_file',
          { file, reason: `churn by ${peer.agent}`, ...(ttlMs !== undefined ? { ttlMs } : {}) },
          [file],
        );
        unavailable = record.outcome === 'unavailable';
        if (result && record.outcome === 'ok') {
          const b = body(result);
          assert.equal(b.locked, true);
          assert.equal(b.file, file);
          assert.equal(b.holder, peer.agent);
          peer.held.add(file);
        } else if (result) {
          const b = body(result);
          assert.equal(b.locked, false, record.message);
          assert.ok(others.includes(b.holder!), `a refusal names another agent: ${record.message}`);
        }
      } else if (roll < 0.65) {
        const file = peer.held.size > 0 && random() < 0.7 ? pick([...peer.held]) : pick(FILES);
        const { record, result } = await call(peer, 'unlock_file', { file }, [file]);
        unavailable = record.outcome === 'unavailable';
        if (result) {
          // Released, expired meanwhile, or taken over after expiry: not ours any more either way.
          peer.held.delete(file);
          if (record.outcome === 'refused') assert.ok(others.includes(body(result).holder!), record.message);
        }
      } else if (roll < 0.85) {
        const taskId = `T-${Math.floor(random() * TASK_POOL)}`;
        const files = [
          ...new Set([pick(FILES), pick(FILES), pick(FILES)].slice(0, 1 + Math.floor(random() * 3))),
        ];
        const { record, result } = await call(peer, 'claim_task', { taskId, files }, files);
        unavailable = record.outcome === 'unavailable';
        if (result && record.outcome === 'ok') {
          const task = body(result).task!;
          assert.equal(task.agentId, peer.agent);
          // Claiming a task again adds the new files to the ones it already had.
          for (const file of files) assert.ok(task.files.includes(file), `${file} in ${task.files.join()}`);
          peer.tasks.set(taskId, task.files);
        }
      } else if (peer.tasks.size > 0) {
        const [taskId, files] = pick([...peer.tasks]);
        const complete = random() < 0.5;
        const { record, result } = await call(
          peer,
          complete ? 'complete_task' : 'release_task',
          complete ? { taskId, result: { by: peer.agent } } : { taskId },
          files,
        );
        unavailable = record.outcome === 'unavailable';
        if (result) peer.tasks.delete(taskId);
      }
      await sleep(unavailable ? 25 : Math.floor(random() * 5));
    }
  }

  /** Every event in the stream, oldest first, read straight from Redis. */
  async function history(): Promise<CoordinationEvent[]> {
    const entries = (await inspect.xrange(`${PREFIX}events:stream`, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as CoordinationEvent);
  }

  /** Retry a call that must succeed now that Redis is back (bounded). */
  async function settle(peer: Peer, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
    return waitFor(
      async () => {
        const { result } = await call(peer, tool, args, []);
        return result;
      },
      15_000,
      `${peer.agent} ${tool} to be served again`,
    );
  }

  test(
    'never two holders of one file, every lock ended, outage refused and recovered from',
    { timeout: 180_000 },
    async (t) => {
      const pids = peers.map((p) => p.coordinator.pid);
      const started = Date.now();
      const until = started + RUN_MS;
      const loops = peers.map((peer, i) => agentLoop(peer, i, until));

      // The outage, a third of the way in.
      let killedAt = 0;
      let restartAt = 0;
      let restartedAt = 0;
      const healthDuringOutage: string[] = [];
      const outage = (async () => {
        await sleep(OUTAGE_AT_MS);
        await redis.kill();
        killedAt = Date.now();
        // Health shows the lost store while it is down (polled within the outage, bounded).
        const deadline = killedAt + OUTAGE_MS - 100;
        while (Date.now() < deadline && healthDuringOutage.length < peers.length) {
          for (const peer of peers.filter((p) => !healthDuringOutage.includes(p.agent))) {
            const r = (await peer.coordinator.client.callTool({
              name: 'coordinator__health',
              arguments: {},
            })) as CallToolResult;
            if (body(r).dependencies?.redis === 'disconnected') healthDuringOutage.push(peer.agent);
          }
          await sleep(50);
        }
        await sleep(Math.max(0, killedAt + OUTAGE_MS - Date.now()));
        restartAt = Date.now();
        await redis.restart();
        restartedAt = Date.now();
      })();
      await Promise.all([...loops, outage]);
      t.diagnostic(
        `killed at +${killedAt - started} ms, restart at +${restartAt - started} ms, up at +${restartedAt - started} ms`,
      );

      // 1. During the outage: clear errors only, never a grant.
      const duringOutage = calls.filter((c) => c.start >= killedAt && c.end <= restartAt);
      const notRefused = duringOutage.filter((c) => c.outcome !== 'unavailable');
      assert.deepEqual(
        notRefused.map((c) => `${c.agent} ${c.tool} ${c.outcome}: ${c.message}`),
        [],
        'every call made while Redis was down fails as unreachable',
      );
      for (const agent of AGENTS) {
        assert.ok(
          duringOutage.some((c) => c.agent === agent),
          `${agent} made calls during the outage (and was refused)`,
        );
      }
      assert.deepEqual(
        [...healthDuringOutage].sort(),
        [...AGENTS],
        'health of every coordinator showed redis: disconnected during the outage',
      );

      // 2. Recovery by themselves: the same processes grant locks again after the restart.
      for (const [i, agent] of AGENTS.entries()) {
        assert.ok(alive(pids[i]!), `${agent}'s coordinator was not restarted`);
        assert.equal(peers[i]!.coordinator.pid, pids[i]);
        const grantsAfter = calls.filter((c) => c.agent === agent && c.granted && c.start >= restartedAt);
        assert.ok(grantsAfter.length > 0, `${agent} was granted locks or claims after the restart`);
      }
      for (const peer of peers) {
        const file = `recovery/${peer.agent}.ts`;
        const locked = await settle(peer, 'lock_file', { file });
        assert.equal(locked.isError, undefined, textOf(locked));
        assert.equal(body(locked).locked, true);
        const unlocked = await settle(peer, 'unlock_file', { file });
        assert.equal(body(unlocked).unlocked, true, textOf(unlocked));
        const health = await waitFor(
          async () => {
            const r = await settle(peer, 'health', {});
            return body(r).dependencies?.redis === 'connected' ? r : undefined;
          },
          15_000,
          `${peer.agent} health to show redis connected`,
        );
        assert.equal(body(health).dependencies?.redis, 'connected');
      }

      // 3. Wind down: give back every task still claimed (including any whose claim answer was lost),
      // then wait past the longest TTL so every plain lock expires and is reported.
      for (const peer of peers) {
        for (const taskId of peer.tasks.keys()) await settle(peer, 'release_task', { taskId });
        peer.tasks.clear();
        const claimed = body(await settle(peer, 'list_tasks', { status: 'claimed' })).tasks ?? [];
        for (const task of claimed.filter((x) => x.agentId === peer.agent)) {
          const r = await settle(peer, 'release_task', { taskId: task.taskId });
          assert.equal(r.isError, undefined, textOf(r));
        }
      }
      const remaining = body(await settle(peers[0]!, 'list_tasks', { status: 'claimed' })).tasks ?? [];
      assert.deepEqual(remaining, [], 'no task left claimed');
      await sleep(LOCK_TTL_MS + 500);

      // 4. The history.
      let events: CoordinationEvent[] = [];
      let report = checkLockHistory([], uncertain);
      const deadline = Date.now() + 15_000;
      for (;;) {
        events = await history();
        report = checkLockHistory(events, uncertain);
        if ((report.dangling.length === 0 && report.violations.length === 0) || Date.now() > deadline) break;
        await sleep(250);
      }
      const byType = (type: string) => events.filter((e) => e.type === type);
      t.diagnostic(
        `${calls.length} calls (${calls.filter((c) => c.granted).length} grants, ` +
          `${calls.filter((c) => c.outcome === 'refused').length} refusals, ` +
          `${calls.filter((c) => c.outcome === 'unavailable').length} unavailable, ` +
          `${duringOutage.length} during the outage); ${events.length} events, ${report.locks} lock intervals ` +
          `(${byType('file:unlocked').length} unlocked, ${byType('file:lock_expired').length} expired); ` +
          `uncertain pairs: ${[...uncertain].join(', ') || 'none'}`,
      );
      assert.deepEqual(report.violations, [], 'never two holders of one file at once');
      assert.deepEqual(report.dangling, [], 'every acquired lock released or expired');
      assert.ok(report.locks >= 100, `enough locks to mean something (${report.locks})`);
      // At most one call per agent was in flight when Redis died, of at most 3 files.
      assert.ok(uncertain.size <= 3 * AGENTS.length, `few operations of unknown outcome (${uncertain.size})`);
      for (const type of [
        'file:locked',
        'file:unlocked',
        'file:lock_expired',
        'task:claimed',
        'task:completed',
        'task:released',
      ]) {
        assert.ok(byType(type).length > 0, `the history has ${type}`);
      }
      for (const agent of AGENTS) {
        assert.ok(
          byType('file:locked').some(
            (e) => (e.data as { holder?: string }).holder === agent && e.agentId === agent,
          ),
          `${agent}'s locks are in the shared history`,
        );
      }
      const lockedAfterRestart = byType('file:locked').filter(
        (e) => Date.parse((e.data as { acquiredAt: string }).acquiredAt) >= restartAt,
      );
      assert.ok(lockedAfterRestart.length > 0, 'locks granted after the restart are in the history');
      assert.ok(
        !byType('file:locked').some((e) => {
          const at = Date.parse((e.data as { acquiredAt: string }).acquiredAt);
          return at > killedAt && at < restartAt;
        }),
        'no lock acquired while Redis was down',
      );

      // 5. Nothing a client was told is missing from the history, across the outage: every granted
      // lock_file and every successful unlock_file has its event.
      const lockedKeys = new Set(
        byType('file:locked').map((e) => {
          const d = e.data as { file: string; holder: string; acquiredAt: string };
          return `${d.file} ${d.holder} ${d.acquiredAt}`;
        }),
      );
      const unlockedKeys = new Set(
        byType('file:unlocked').map((e) => {
          const d = e.data as { file: string; holder: string; releasedAt: string };
          return `${d.file} ${d.holder} ${d.releasedAt}`;
        }),
      );
      const missing: string[] = [];
      for (const peer of peers) {
        for (const c of calls.filter((x) => x.agent === peer.agent && x.outcome === 'ok')) {
          const answer = c.answer ?? {};
          if (c.tool === 'lock_file' && answer.locked === true) {
            const key = `${answer.file} ${answer.holder} ${answer.acquiredAt}`;
            if (!lockedKeys.has(key)) missing.push(`file:locked ${key}`);
          }
          if (c.tool === 'unlock_file' && answer.unlocked === true) {
            const key = `${answer.file} ${peer.agent} ${answer.releasedAt}`;
            if (!unlockedKeys.has(key)) missing.push(`file:unlocked ${key}`);
          }
        }
      }
      assert.deepEqual(missing, [], 'every acknowledged grant and release is in the history');

      // 6. And the store agrees: nothing is held any more.
      const locks = body(await settle(peers[0]!, 'list_locks', {})).locks ?? [];
      assert.deepEqual(locks, [], 'no lock left in the store');
    },
  );
});
