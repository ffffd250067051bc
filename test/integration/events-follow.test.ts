/**
 * `mcp-coordinator events --follow` against a real redis-server: the follower replays the stream's
 * history, then prints what a coordinator (another process) does live, as JSON lines of the
 * contract's event shape, filtered by `--type`; `--since <id>` replays only what came after that
 * event; SIGINT ends the follower at once with exit code 0. And the command neither fails nor
 * loses live events when one of its Redis connections is slow to open (a TCP proxy holds one back).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  MAIN,
  fixtureServer,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const PREFIX = 'follow:';
const AGENT = 'follow-agent';
/** How long the proxy holds back the slow connection. */
const SLOW_MS = 1_000;
const EVENT_TYPES = new Set([
  'file:locked',
  'file:unlocked',
  'file:lock_expired',
  'task:claimed',
  'task:completed',
  'task:released',
  'health:degraded',
  'health:recovered',
  'server:registered',
  'tools:changed',
  'agent:registered',
  'agent:left',
]);

interface PrintedEvent {
  id: string;
  type: string;
  source: string;
  agentId: string;
  data: { file?: string; holder?: string; acquiredAt?: string; releasedAt?: string };
  timestamp: string;
}

/** A running `events` command: its stdout as parsed JSON lines, its stderr as text. */
interface Follower {
  child: ChildProcess;
  events: PrintedEvent[];
  /** stdout lines that were not JSON (there must be none). */
  garbage: string[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startFollower(configFile: string, extra: string[] = []): Follower {
  const child = spawn(
    process.execPath,
    [MAIN, 'events', '--follow', '--type', 'file:*', '--config', configFile, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const events: PrintedEvent[] = [];
  const garbage: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as PrintedEvent);
      } catch {
        garbage.push(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, events, garbage, stderr: () => stderr, exited };
}

/** Resolves with the exit, or with undefined when the process is still running after `ms`. */
async function exitWithin(f: Follower, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([f.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP proxy to Redis that holds back its `slow`-th connection for `delayMs` before relaying it. */
async function slowProxy(
  redisPort: number,
  slow: number,
  delayMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    accepted += 1;
    client.pause();
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    setTimeout(
      () => {
        if (client.destroyed) return;
        const upstream = connect(redisPort, '127.0.0.1');
        sockets.add(upstream);
        upstream.once('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      },
      accepted === slow ? delayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` every 25 ms; false when `ms` pass first. */
async function poll(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** One `events --type file:*` run (no follow), collected. */
function runEvents(configFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'events', '--type', 'file:*', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const find = (f: Follower, type: string, file: string) =>
  f.events.filter((e) => e.type === type && e.data.file === file);

function assertEventShape(e: PrintedEvent): void {
  assert.equal(typeof e.id, 'string');
  assert.ok(e.id.length > 0, 'id');
  assert.ok(EVENT_TYPES.has(e.type), `known type ${e.type}`);
  assert.equal(typeof e.source, 'string');
  assert.ok(e.source.length > 0, 'source');
  assert.equal(typeof e.agentId, 'string');
  assert.ok(e.agentId.length > 0, 'agentId');
  assert.equal(typeof e.data, 'object');
  assert.notEqual(e.data, null);
  assert.equal(typeof e.timestamp, 'string');
  assert.equal(new Date(e.timestamp).toISOString(), e.timestamp, 'timestamp is ISO-8601');
  assert.deepEqual(
    Object.keys(e)
      .filter((k) => k !== 'signature')
      .sort(),
    ['agentId', 'data', 'id', 'source', 'timestamp', 'type'],
  );
}

describe('events --follow against a real Redis', () => {
  const dir = tempDir();
  let redis: RedisServer;
  let inspect: Redis;
  let coordinator: StartedCoordinator;
  let configFile: string;
  const followers: Follower[] = [];

  const tool = (name: string, args: Record<string, unknown>) =>
    coordinator.client.callTool({ name: `coordinator__${name}`, arguments: args }) as Promise<CallToolResult>;

  /** Stream entries (parsed events) as Redis holds them. */
  const streamEvents = async (): Promise<PrintedEvent[]> => {
    const entries = (await inspect.xrange(`${PREFIX}events:stream`, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as PrintedEvent);
  };
  const lockAndUnlock = async (file: string) => {
    const locked = await tool('lock_file', { file, reason: 'follow test' });
    assert.equal(locked.isError, undefined, JSON.stringify(locked.content));
    const unlocked = await tool('unlock_file', { file });
    assert.equal(unlocked.isError, undefined, JSON.stringify(unlocked.content));
  };
  /** Wait until both events of `file` are in the stream (the bus publishes asynchronously). */
  const recorded = (file: string) =>
    waitFor(
      async () => {
        const events = await streamEvents();
        return events.some((e) => e.type === 'file:unlocked' && e.data.file === file) ? events : undefined;
      },
      10_000,
      `${file} events in the stream`,
    );

  before(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await inspect.connect();
    configFile = writeConfig(dir.path, {
      servers: { alpha: fixtureServer('alpha') },
      coordination: { redis: redis.url, prefix: PREFIX, workspaceRoot: dir.path },
    });
    coordinator = await startCoordinator(configFile, {
      env: { MCP_AGENT_ID: AGENT, MCP_COORDINATOR_LOG_LEVEL: 'info' },
    });
  });
  after(async () => {
    for (const f of followers) {
      if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
    }
    await coordinator?.close();
    inspect?.disconnect();
    await redis?.stop();
    dir.remove();
  });

  test('events (one-shot and --follow) copes with a Redis connection slow to open, whichever it is', async () => {
    await lockAndUnlock('src/cold.ts');
    await recorded('src/cold.ts');
    // Each run goes through a TCP proxy that holds back one of the command's connections (the
    // 1st, then the 2nd, then the 3rd) for 1 s: a slow link, well within any connect timeout.
    // The command must wait for it, not fail, and a follower must not lose the events published
    // after it printed its replay.
    const failures: string[] = [];
    const configFor = (port: number, name: string) =>
      writeConfig(
        dir.path,
        {
          servers: {},
          coordination: { redis: `redis://127.0.0.1:${port}`, prefix: PREFIX, workspaceRoot: dir.path },
        },
        name,
      );
    for (const slow of [1, 2, 3]) {
      const proxy = await slowProxy(redis.port, slow, SLOW_MS);
      try {
        const r = await runEvents(configFor(proxy.port, `slow-once-${slow}.yml`));
        const printed = r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n');
        const cold = printed.filter((l) => (JSON.parse(l) as PrintedEvent).data.file === 'src/cold.ts');
        if (r.code !== 0 || cold.length !== 2) {
          failures.push(
            `one-shot, connection #${slow} slow: exit ${r.code}, ${cold.length}/2 events: ${r.stderr.trim()}`,
          );
        }
      } finally {
        await proxy.close();
      }

      const followProxy = await slowProxy(redis.port, slow, SLOW_MS);
      const follower = startFollower(configFor(followProxy.port, `slow-follow-${slow}.yml`));
      followers.push(follower);
      try {
        const replayed = await poll(() => find(follower, 'file:unlocked', 'src/cold.ts').length > 0, 15_000);
        if (!replayed) {
          failures.push(`--follow, connection #${slow} slow: no replay: ${follower.stderr().trim()}`);
          continue;
        }
        const file = `src/slow-${slow}.ts`;
        await lockAndUnlock(file);
        const followed = await poll(() => find(follower, 'file:unlocked', file).length > 0, 10_000);
        if (!followed || find(follower, 'file:locked', file).length !== 1) {
          failures.push(
            `--follow, connection #${slow} slow: the lock/unlock done after the replay was not printed ` +
              `(printed: ${follower.events.map((e) => `${e.type} ${e.data.file}`).join(', ')})`,
          );
        }
      } finally {
        if (follower.child.exitCode === null && follower.child.signalCode === null)
          follower.child.kill('SIGINT');
        await exitWithin(follower, 5_000);
        await followProxy.close();
      }
    }
    assert.deepEqual(failures, [], 'every run reads the history, and every follower follows');
  });

  test('replays the history, follows live events, filters by type, --since, and stops on SIGINT', async () => {
    // History from before the follower starts.
    await lockAndUnlock('src/seed.ts');
    const history = await recorded('src/seed.ts');
    assert.ok(
      history.some((e) => !e.type.startsWith('file:')),
      'the stream also holds non-file events (agent/server), so the --type filter has work to do',
    );

    const follower = startFollower(configFile);
    followers.push(follower);
    await waitFor(
      () => find(follower, 'file:unlocked', 'src/seed.ts').length > 0,
      15_000,
      'the follower to replay the seed events',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; follower stderr: ${follower.stderr()}`);
    });
    assert.equal(find(follower, 'file:locked', 'src/seed.ts').length, 1, 'seed lock replayed once');

    // Live: a lock and an unlock through the coordinator process.
    await lockAndUnlock('src/live.ts');
    await waitFor(
      () => find(follower, 'file:unlocked', 'src/live.ts').length > 0,
      10_000,
      'the follower to print the live unlock',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; follower stderr: ${follower.stderr()}`);
    });
    const [liveLocked] = find(follower, 'file:locked', 'src/live.ts');
    const [liveUnlocked] = find(follower, 'file:unlocked', 'src/live.ts');
    assert.ok(liveLocked, 'the live lock was printed');
    assert.ok(liveUnlocked);
    assert.equal(find(follower, 'file:locked', 'src/live.ts').length, 1, 'printed once');
    assert.equal(find(follower, 'file:unlocked', 'src/live.ts').length, 1, 'printed once');
    for (const e of [liveLocked, liveUnlocked]) {
      assertEventShape(e);
      assert.equal(e.agentId, AGENT);
      assert.equal(e.data.holder, AGENT);
    }
    assert.equal(
      liveLocked.data.acquiredAt,
      liveUnlocked.data.acquiredAt,
      'the unlock names the acquisition',
    );
    assert.ok(follower.events.indexOf(liveLocked) < follower.events.indexOf(liveUnlocked), 'in order');
    assert.ok(liveLocked.id !== liveUnlocked.id);

    // Everything printed is a well-formed file event, and nothing else was printed.
    assert.deepEqual(follower.garbage, [], 'stdout carries only JSON lines');
    for (const e of follower.events) {
      assertEventShape(e);
      assert.match(e.type, /^file:/);
    }
    assert.equal(new Set(follower.events.map((e) => e.id)).size, follower.events.length, 'no duplicates');
    // What the follower printed is what the stream holds (file events, same order).
    const stored = (await recorded('src/live.ts')).filter((e) => e.type.startsWith('file:'));
    assert.deepEqual(
      follower.events.map((e) => e.id),
      stored.map((e) => e.id),
    );

    // --since <id> (one-shot): only the events after that one.
    const once = spawnSync(
      process.execPath,
      [MAIN, 'events', '--type', 'file:*', '--since', liveLocked.id, '--config', configFile],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(once.status, 0, once.stderr);
    const later = once.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PrintedEvent);
    assert.deepEqual(
      later.map((e) => e.id),
      [liveUnlocked.id],
    );

    // --follow --since <id>: replays only the later events, then goes on following.
    const sinceFollower = startFollower(configFile, ['--since', liveLocked.id]);
    followers.push(sinceFollower);
    await waitFor(() => sinceFollower.events.length > 0, 15_000, 'the --since follower to replay').catch(
      (error: unknown) => {
        throw new Error(`${String(error)}; follower stderr: ${sinceFollower.stderr()}`);
      },
    );
    await lockAndUnlock('src/after.ts');
    for (const f of [follower, sinceFollower]) {
      await waitFor(
        () => find(f, 'file:unlocked', 'src/after.ts').length > 0,
        10_000,
        'both followers to print the later unlock',
      );
    }
    assert.deepEqual(
      sinceFollower.events.map((e) => `${e.type} ${e.data.file}`),
      ['file:unlocked src/live.ts', 'file:locked src/after.ts', 'file:unlocked src/after.ts'],
    );
    assert.equal(sinceFollower.events[0]!.id, liveUnlocked.id);
    assert.deepEqual(sinceFollower.garbage, []);

    // SIGINT ends both followers promptly and cleanly.
    for (const f of [follower, sinceFollower]) {
      assert.equal(f.child.exitCode, null, 'still following until interrupted');
      f.child.kill('SIGINT');
      const exit = await exitWithin(f, 5_000);
      assert.ok(exit, `the follower exits within 5 s of SIGINT; stderr: ${f.stderr()}`);
      assert.deepEqual(exit, { code: 0, signal: null });
    }
  });
});
