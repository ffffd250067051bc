/**
 * The soak (issue 9): `npm run soak [-- --http | --stdio] [--calls N] [--clients N] [--crash-every MS]`.
 * Not part of `npm test`: run by hand, bounded in time.
 *
 * N clients (half legacy v1 SDK, half modern v2 SDK). `--http` (the default): one built
 * `serve --http` coordinator serves them all over Streamable HTTP, each client with its own API
 * key (so its own agent), while an event follower holds `/api/events/stream` open with
 * `Last-Event-ID` reconnects. `--stdio`: each client an IDE window with its own coordinator over
 * stdio. Either way all share a real redis-server on a free loopback port, restarted (SIGKILL, AOF
 * on) twice during the run, and every coordinator runs the same three fixture servers: a steady
 * legacy one, a steady modern one and one that exits by itself every `--crash-every` ms. Prints
 * one table; exits 1 when a call fails for another reason than the crashing server or a Redis
 * restart, a lock is granted twice, a lock event is lost or duplicated (`--http`), RSS grows
 * without bound, or a downstream is missing at the end or outlives it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startRedis } from '../test/helpers/redis-server.js';
import { FIXTURE, MODERN_FIXTURE } from './fixture.js';
import { isAlive } from './coordinator-process.js';
import { removeTempDirs, sleep, tempDir } from './procs.js';
import { startHttp, type HttpCoordinator } from '../test/helpers/http.js';
import { startClient, startHttpClient, type SoakClient } from './soak/clients.js';
import { checkEvents, followEvents, type EventFollower, type LockLedger } from './soak/events.js';
import { downstreamsOf, watchProcesses } from './soak/processes.js';
import { runCalls } from './soak/run-calls.js';
import { printSummary, verdict } from './soak/summary.js';
import { Tally } from './soak/tally.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '50000' },
    clients: { type: 'string', default: '8' },
    'crash-every': { type: 'string', default: '11000' },
    http: { type: 'boolean', default: false },
    stdio: { type: 'boolean', default: false },
  },
});
const mode: 'http' | 'stdio' = values.stdio && !values.http ? 'stdio' : 'http';
const total = Number(values.calls);
const clientCount = Number(values.clients);
const crashEveryMs = Number(values['crash-every']);
const SERVERS_PER_COORDINATOR = 3;
const WORKERS_PER_CLIENT = 4;
const WARM_UP_CALLS = 50;
/** How long the event follower keeps one stream before reopening it with Last-Event-ID. */
const EVENTS_RECONNECT_MS = 4_000;
const agentOf = (i: number) => `soak-${i}`;

async function main(): Promise<number> {
  const redis = await startRedis({ aof: true });
  const dir = tempDir('soak');
  const config = join(dir, 'servers.yml');
  const keys = Array.from({ length: clientCount + 1 }, () => randomBytes(24).toString('hex'));
  const readerKey = keys[clientCount]!;
  writeFileSync(
    config,
    stringify({
      servers: {
        steady: { command: process.execPath, args: [FIXTURE, '--name', 'steady'] },
        modern: { command: process.execPath, args: [MODERN_FIXTURE, '--name', 'modern'] },
        crashy: {
          command: process.execPath,
          args: [FIXTURE, '--name', 'crashy', '--exit-after', String(crashEveryMs)],
        },
      },
      coordination: { redis: redis.url, prefix: 'soak:', workspaceRoot: dir },
      cacheDir: '',
      ...(mode === 'http' && {
        http: {
          rateLimitPerMinute: 0,
          auth: {
            keys: [
              ...keys
                .slice(0, clientCount)
                .map((key, i) => ({ name: agentOf(i), key, scopes: ['read', 'call'] })),
              { name: 'soak-events', key: readerKey, scopes: ['read'] },
            ],
          },
        },
      }),
    }),
  );
  const clients: SoakClient[] = [];
  const seenChildren = new Set<number>();
  const tally = new Tally();
  let server: HttpCoordinator | undefined;
  let follower: EventFollower | undefined;
  const ledger: LockLedger = { granted: [], released: [] };
  try {
    if (mode === 'http') server = await startHttp(config, { env: { MCP_COORDINATOR_LOG_LEVEL: 'warn' } });
    const http = server;
    clients.push(
      ...(await Promise.all(
        Array.from({ length: clientCount }, (_, i) => {
          const era = i % 2 === 0 ? 'legacy' : 'modern';
          return http
            ? startHttpClient(era, http.url, keys[i]!, http.child.pid!)
            : startClient(era, config, dir);
        }),
      )),
    );
    const coordinators = [...new Set(clients.map((c) => c.pid))];
    if (http) {
      follower = followEvents(http.url, readerKey, EVENTS_RECONNECT_MS);
      await follower.ready;
    }
    await warmUp(clients);
    await warmUpUnderLoad(clients, Math.floor(total / 10));
    const watch = watchProcesses(coordinators, 500, seenChildren);
    watch.markStart();
    const restarts = [Math.floor(total / 3), Math.floor((2 * total) / 3)];
    const restarting: Promise<void>[] = [];
    const started = performance.now();
    await runCalls(clients, tally, {
      total,
      workers: WORKERS_PER_CLIENT,
      onLock: (kind, index, result) => {
        if (kind === 'locked')
          ledger.granted.push(
            `${String(result['holder'])}|${String(result['file'])}|${String(result['acquiredAt'])}`,
          );
        else
          ledger.released.push(`${agentOf(index)}|${String(result['file'])}|${String(result['releasedAt'])}`);
      },
      progress: (done) => {
        if (done === restarts[0]) {
          restarts.shift();
          restarting.push(restartRedis(redis, tally));
        }
      },
    });
    const elapsedMs = performance.now() - started;
    await Promise.all(restarting);
    const childrenAtEnd = await settledChildren(coordinators);
    const rss = watch.stop();
    await follower?.stop();
    const events = follower && {
      ...checkEvents(follower, new Set(clients.map((_, i) => agentOf(i))), ledger),
      connects: follower.connects,
      failedConnects: follower.failedConnects,
    };
    await Promise.allSettled(clients.map((c) => c.close()));
    await server?.stop();
    const orphans = await leftAlive([...coordinators, ...seenChildren], 5_000);
    const summary = {
      mode,
      events,
      total,
      clients: clients.map((c) => c.era),
      elapsedMs,
      tally,
      rss,
      childrenAtEnd,
      expectedChildren: coordinators.length * SERVERS_PER_COORDINATOR,
      childrenSeen: seenChildren.size,
      orphans,
      redisRestarts: 2 - restarts.length,
    };
    printSummary(summary);
    return verdict(summary).length === 0 ? 0 : 1;
  } finally {
    await follower?.stop();
    await Promise.allSettled(clients.map((c) => c.close()));
    await server?.stop();
    for (const pid of seenChildren) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await redis.stop();
    removeTempDirs();
  }
}

/** Every client answers an echo on both steady servers before the clock starts. */
async function warmUp(clients: readonly SoakClient[]): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      try {
        for (let i = 0; i < WARM_UP_CALLS; i++) {
          await c.call('steady__echo', { text: 'warm' });
          await c.call('modern__echo', { text: 'warm' });
        }
      } catch (error) {
        throw new Error(`warm-up of a ${c.era} client: ${(error as Error).message}\n${c.stderr()}`);
      }
    }),
  );
}

/**
 * The same load for a tenth of the run before the clock (and the RSS baseline) starts: one
 * coordinator serving 32 calls in flight grows its heap for the first ~10,000 calls and is flat
 * afterwards, so a baseline taken after 50 sequential calls would read that ramp as a leak.
 */
async function warmUpUnderLoad(clients: readonly SoakClient[], calls: number): Promise<void> {
  const tally = new Tally();
  await runCalls(clients, tally, { total: calls, workers: WORKERS_PER_CLIENT });
  if (tally.unexpected.size > 0 || tally.doubleGrants > 0)
    throw new Error(
      `warm-up under load: ${JSON.stringify([...tally.unexpected])}, ${tally.doubleGrants} double grants`,
    );
}

async function restartRedis(redis: Awaited<ReturnType<typeof startRedis>>, tally: Tally): Promise<void> {
  tally.redisDown();
  await redis.kill();
  await sleep(1_000);
  await redis.restart();
  tally.redisUp();
}

/** Downstreams alive per coordinator, after waiting (bounded) for a crashed one to be back. */
async function settledChildren(coordinators: readonly number[]): Promise<number> {
  const count = () => coordinators.reduce((n, pid) => n + downstreamsOf(pid).length, 0);
  // A server that crashes faster than the crash-loop window is retried every 30 s: wait that long
  // to see the supervisor bring it back (it is counted while it is up).
  const deadline = Date.now() + 40_000;
  while (count() < coordinators.length * SERVERS_PER_COORDINATOR && Date.now() < deadline) await sleep(100);
  return count();
}

/** The pids still alive `graceMs` after the coordinators were told to exit. */
async function leftAlive(pids: readonly number[], graceMs: number): Promise<number[]> {
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  return pids.filter(isAlive);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
