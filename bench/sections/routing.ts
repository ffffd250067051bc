/**
 * Issue 3's "Speed" rows, on the built coordinator (`node dist/main.js serve`) driven by an SDK
 * Client over stdio, in front of test/fixtures/tool-server.mjs:
 *
 * - failover: group `g` = replicas a, b (`routing.default: a`). SIGKILL a (pid from `whoami`),
 *   call `g__whoami` at once; it must be answered by b. Added latency = that call's p50 minus the
 *   p50 of normal calls (served by a) in the same round. Then wait until a is back and repeat.
 *   At most 4 kills per coordinator: each death within 10 s of connecting counts as a failure,
 *   and the 5th in a row puts a server in crash-loop (30 s between attempts).
 * - health: `health.intervalMs: 1000`; SIGKILL the only server, poll `coordinator__health` every
 *   15 ms: kill → reported not healthy; restarted server ready (its "ready" stderr line, relayed
 *   by the coordinator) → healthy again; for context also from the new process's start (/proc).
 * - aggregate: 10 servers, `sleep {ms: 20}` plus `--sleep-extra 0..90` (so 20..110 ms);
 *   `coordinator__aggregate` wall vs the slowest server's direct call (an SDK client of its own
 *   on the same fixture command), alternating within each round.
 * - warm catalog: 10 servers with `--start-delay 3000` and a `cacheDir`; one run to warm the
 *   cache, then fresh coordinators on the same cacheDir: spawn → `tools/list` holding every tool,
 *   next to the floor of a coordinator without servers (spawn → initialize) in the same round.
 *   "n/a: warm catalog not wired" when the warm-up run leaves nothing in cacheDir.
 *
 * Rounds are fresh coordinators (aggregate: batches on one coordinator). Each part has a share of
 * the section's budget and starts no round it would not finish; every loop is also bounded by a
 * count and a timeout. Prints nothing on stdout.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  childrenOf,
  fixtureConfig,
  launchCoordinator,
  pollUntil,
  type CoordinatorProcess,
  type FixtureServer,
} from '../coordinator-process.js';
import { downstreamLaunch, expectedNames, servers } from '../fixture.js';
import { commandLine, lastErrorLine, sleep, tailOf, tempDir } from '../procs.js';
import { RoundBudget, errorText, naRow, roundsRow } from '../rows.js';
import {
  callChecked,
  connectOrExplain,
  newClient,
  track,
  waitForFullList,
  type Session,
} from '../session.js';
import { median, percentile } from '../stats.js';
import type { BenchRow, SectionContext } from '../types.js';

interface RoutingPlan {
  /** Rounds per part (aggregate: batches). */
  rounds: number;
  /** Kills per coordinator in the failover part (≤ 4, see above). */
  failoverKills: number;
  /** Normal calls before each kill (the baseline). */
  baselineCalls: number;
  /** Kills per coordinator in the health part (≤ 4). */
  healthKills: number;
  /** Aggregate / single call pairs per batch. */
  aggregateReps: number;
}

const FULL: RoutingPlan = {
  rounds: 5,
  failoverKills: 4,
  baselineCalls: 30,
  healthKills: 3,
  aggregateReps: 8,
};
const QUICK: RoutingPlan = {
  rounds: 2,
  failoverKills: 3,
  baselineCalls: 20,
  healthKills: 2,
  aggregateReps: 4,
};

/** Share of the section budget of each part, in order (later parts inherit what earlier ones leave). */
const SHARES = { failover: 0.25, health: 0.15, aggregate: 0.2, warm: 0.25, probe: 0.15 };

const HEALTH_INTERVAL_MS = 1_000;
const POLL_MS = 15;
/** Bound on a restart, a transition, a catalog: far above normal, so a stuck run still ends. */
const WAIT_MS = 15_000;
const AGGREGATE_SERVERS = 10;
const SLEEP_MS = 20;
const SLEEP_EXTRA_STEP_MS = 10;
const WARM_SERVERS = 10;
const START_DELAY_MS = 3_000;
const WARM_TARGET_MS = 300;
/** What the fixture writes on stderr once it reads stdin, as the coordinator relays it. */
const READY_LINE = /^\[h\] h ready\s*$/;

type Who = { name: string; pid: number };
type Health = { overall: string; servers: Record<string, { status: string }> };
type Attempt = { target: string; error: string };

export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  const plan = ctx.quick ? QUICK : FULL;
  const t0 = performance.now();
  let share = 0;
  const deadline = (part: keyof typeof SHARES) => {
    share += SHARES[part];
    return t0 + share * ctx.budgetMs;
  };
  const rows: BenchRow[] = [];
  const part = async (name: string, fallback: BenchRow, measure: () => Promise<BenchRow[]>) => {
    ctx.log(name);
    try {
      rows.push(...(await measure()));
    } catch (error) {
      ctx.log(`  ${name} failed: ${errorText(error)}`);
      rows.push({ ...fallback, note: errorText(error) });
    }
  };
  const failed = (name: string, unit: string, op: '<=' | '>=', value: number, text?: string) =>
    naRow(name, unit, { op, value, text }, '');

  await part('failover', failed(FAILOVER_ROW, 'ms', '<=', 50), () =>
    failover(ctx, plan, deadline('failover')),
  );
  await part('health', failed(HEALTH_DOWN_ROW, 'ms', '<=', 1_000), () =>
    health(ctx, plan, deadline('health')),
  );
  await part('aggregate', failed(AGGREGATE_ROW, '×', '<=', 1.3), () =>
    aggregate(ctx, plan, deadline('aggregate')),
  );
  await part('warm catalog', failed(WARM_ROW, 'ms', '<=', WARM_TARGET_MS), () =>
    warmCatalog(ctx, plan, deadline('warm')),
  );
  await part('era probe', failed(PROBE_ROW, '×', '<=', 1.1), () => eraProbe(ctx, plan, deadline('probe')));
  return rows;
}

const FAILOVER_ROW = 'failover: first replica SIGKILLed, next call served by the other, added p50';
const HEALTH_DOWN_ROW = 'health: SIGKILL of a stdio server → `coordinator__health` not healthy';
const AGGREGATE_ROW = `aggregate over ${AGGREGATE_SERVERS} servers (sleep 20–110 ms), wall ÷ slowest server's direct call`;
const WARM_ROW = `warm-catalog cold start: spawn → full \`tools/list\`, ${WARM_SERVERS} servers with --start-delay ${START_DELAY_MS}`;

/** Polls coordinator__health until `ids` are all healthy. */
async function allHealthy(c: CoordinatorProcess, ids: readonly string[], timeoutMs = WAIT_MS): Promise<void> {
  await pollUntil(
    `waiting for ${ids.join(', ')} to be healthy`,
    async () => {
      const h = await c.structured<Health>('coordinator__health');
      return ids.every((id) => h.servers[id]?.status === 'healthy') ? true : undefined;
    },
    timeoutMs,
    25,
  );
}

function routingOf(res: CallToolResult): Attempt[] {
  const meta = res._meta?.['coordinator/routing'] as { attempts?: Attempt[] } | undefined;
  return meta?.attempts ?? [];
}

async function failover(ctx: SectionContext, plan: RoutingPlan, deadline: number): Promise<BenchRow[]> {
  const budget = new RoundBudget(deadline, plan.rounds);
  const added: number[] = [];
  const failP50: number[] = [];
  const normalP50: number[] = [];
  let skipped = 0;
  let retried = 0;
  let direct = 0;
  const replicas: FixtureServer[] = [
    { id: 'a', keys: { group: 'g' } },
    { id: 'b', keys: { group: 'g' } },
  ];
  while (budget.next()) {
    const c = await launchCoordinator(fixtureConfig(replicas, { routing: { default: 'a' } }));
    try {
      await allHealthy(c, ['a', 'b']);
      const whoami = async () => {
        const t = performance.now();
        const res = await c.call('g__whoami');
        const ms = performance.now() - t;
        return { ms, who: res.structuredContent as Who, attempts: routingOf(res) };
      };
      for (let i = 0; i < 30; i++) await whoami();
      const normal: number[] = [];
      const fail: number[] = [];
      for (let k = 0; k < plan.failoverKills; k++) {
        for (let i = 0; i < plan.baselineCalls; i++) {
          const w = await whoami();
          if (w.who.name !== 'a') throw new Error(`normal call served by ${w.who.name}, not a`);
          normal.push(w.ms);
        }
        const victim = (await whoami()).who;
        if (victim.name !== 'a') throw new Error(`whoami answered ${victim.name}, not a`);
        process.kill(victim.pid, 'SIGKILL');
        const w = await whoami();
        if (w.who.name !== 'b') throw new Error(`after SIGKILL of a the call was served by ${w.who.name}`);
        fail.push(w.ms);
        const aTried = w.attempts.find((a) => a.target === 'a');
        if (!aTried) direct++;
        else if (/skipped/.test(aTried.error)) skipped++;
        else retried++;
        // a restarts after its backoff (200, 400, 800, 1600 ms); calls go to b meanwhile.
        await pollUntil(
          'waiting for replica a to restart',
          async () => {
            const x = await whoami();
            return x.who.name === 'a' && x.who.pid !== victim.pid ? true : undefined;
          },
          WAIT_MS,
          20,
        );
      }
      const base = percentile(normal, 0.5);
      normalP50.push(base);
      failP50.push(median(fail));
      added.push(median(fail) - base);
      ctx.log(
        `  round ${budget.completed + 1}: normal p50 ${base.toFixed(2)} ms, failover calls ${fail.map((v) => v.toFixed(1)).join(', ')} ms`,
      );
    } finally {
      await c.close();
      budget.end();
    }
  }
  const how =
    `${plan.failoverKills} kills per coordinator; a was skipped as known dead ${skipped}×, ` +
    `tried and failed over ${retried}×, not in the attempts ${direct}×`;
  return [
    roundsRow(FAILOVER_ROW, added, 'ms', { op: '<=', value: 50 }, how),
    roundsRow('failover: that call, p50', failP50, 'ms'),
    roundsRow('failover: normal call `g__whoami` (served by a), p50', normalP50, 'ms'),
  ];
}

/** Seconds since boot at which `pid` started, from /proc (10 ms resolution); undefined if unreadable. */
function startedAgoMs(pid: number): number | undefined {
  try {
    const stat = readText(`/proc/${pid}/stat`);
    const uptime = Number(readText('/proc/uptime').split(' ')[0]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22 (starttime, in clock ticks; USER_HZ is 100 on Linux) is index 19 after "pid (comm)".
    const ticks = Number(fields[19]);
    if (!Number.isFinite(ticks) || !Number.isFinite(uptime)) return undefined;
    return Math.max(0, (uptime - ticks / 100) * 1000);
  } catch {
    return undefined;
  }
}

/** Small /proc files: a sync read is the cheapest, and keeps the poll loop's timing tight. */
const readText = (file: string) => readFileSync(file, 'utf8');

async function health(ctx: SectionContext, plan: RoutingPlan, deadline: number): Promise<BenchRow[]> {
  const budget = new RoundBudget(deadline, plan.rounds);
  const downMs: number[] = [];
  const readyMs: number[] = [];
  const startMs: number[] = [];
  const totalMs: number[] = [];
  const config = fixtureConfig([{ id: 'h' }], {
    health: { intervalMs: HEALTH_INTERVAL_MS },
  });
  while (budget.next()) {
    const c = await launchCoordinator(config);
    const down: number[] = [];
    const ready: number[] = [];
    const start: number[] = [];
    const total: number[] = [];
    try {
      await allHealthy(c, ['h']);
      for (let k = 0; k < plan.healthKills; k++) {
        const victim = await c.structured<Who>('h__whoami');
        process.kill(victim.pid, 'SIGKILL');
        const killedAt = performance.now();
        let downAt: number | undefined;
        let spawnedAt: number | undefined;
        let readyAt: number | undefined;
        let healthyAt: number | undefined;
        const until = killedAt + WAIT_MS;
        while (healthyAt === undefined && performance.now() < until) {
          if (spawnedAt === undefined) {
            const fresh = childrenOf(c.pid).find(
              (pid) => pid !== victim.pid && commandLine(pid).includes('--name h'),
            );
            if (fresh !== undefined) {
              const now = performance.now();
              const ago = startedAgoMs(fresh);
              spawnedAt = ago === undefined ? now : Math.min(now, now - ago);
            }
          }
          const h = await c.structured<Health>('coordinator__health');
          const at = performance.now();
          const status = h.servers.h?.status;
          readyAt ??= c.stderrLineAt(READY_LINE, killedAt);
          if (downAt === undefined && status !== 'healthy') downAt = at;
          if (downAt !== undefined && readyAt !== undefined && status === 'healthy') healthyAt = at;
          else await sleep(POLL_MS);
        }
        if (downAt === undefined) throw new Error('a killed server was never reported not healthy');
        if (healthyAt === undefined || readyAt === undefined) {
          throw new Error(`a killed server was not ready and healthy again within ${WAIT_MS} ms`);
        }
        down.push(downAt - killedAt);
        ready.push(Math.max(0, healthyAt - readyAt));
        if (spawnedAt !== undefined) start.push(healthyAt - Math.max(spawnedAt, killedAt));
        total.push(healthyAt - killedAt);
      }
      downMs.push(median(down));
      readyMs.push(median(ready));
      if (start.length > 0) startMs.push(median(start));
      totalMs.push(median(total));
      ctx.log(
        `  round ${budget.completed + 1}: down after ${down.map((v) => Math.round(v)).join(', ')} ms; ` +
          `healthy ${ready.map((v) => Math.round(v)).join(', ')} ms after the new process was ready, ` +
          `${start.map((v) => Math.round(v)).join(', ')} ms after it started`,
      );
    } finally {
      await c.close();
      budget.end();
    }
  }
  return [
    roundsRow(
      HEALTH_DOWN_ROW,
      downMs,
      'ms',
      { op: '<=', value: 1_000 },
      `polled every ${POLL_MS} ms; time to the answer that said so`,
    ),
    roundsRow(
      `health: restarted server ready → \`coordinator__health\` healthy, health.intervalMs ${HEALTH_INTERVAL_MS}`,
      readyMs,
      'ms',
      { op: '<=', value: HEALTH_INTERVAL_MS, text: `≤ 1 interval (${HEALTH_INTERVAL_MS} ms)` },
      'ready = its "h ready" stderr line (written once it reads stdin), relayed by the coordinator',
    ),
    roundsRow(
      'health: restarted server process started → healthy (incl. its node start-up)',
      startMs,
      'ms',
      undefined,
      'start = the new process start time in /proc (10 ms ticks)',
    ),
    roundsRow('health: SIGKILL → healthy again (incl. restart backoff 200, 400, 800 ms …)', totalMs, 'ms'),
  ];
}

async function aggregate(ctx: SectionContext, plan: RoutingPlan, deadline: number): Promise<BenchRow[]> {
  const fixtures: FixtureServer[] = Array.from({ length: AGGREGATE_SERVERS }, (_, i) => ({
    id: `s${i}`,
    flags: ['--sleep-extra', String(i * SLEEP_EXTRA_STEP_MS)],
  }));
  const slowest = fixtures.at(-1)!;
  const args = { ms: SLEEP_MS };
  const c = await launchCoordinator(fixtureConfig(fixtures));
  // The slowest server once more, called directly: its own SDK client, the same command line.
  const launch = downstreamLaunch({ id: slowest.id, tools: 0 });
  const transport = new StdioClientTransport({
    ...launch,
    args: [...launch.args, ...slowest.flags!],
    stderr: 'pipe',
  });
  const stderr = tailOf(transport.stderr as Readable | null);
  const client = newClient();
  const directSession = track({
    call: () => Promise.reject(new Error('unused')),
    listToolNames: async () => [],
    nextListChanged: () => new Promise<void>(() => {}),
    measuredPid: undefined,
    close: () => client.close(),
  });
  try {
    await connectOrExplain(client, transport, () => lastErrorLine(stderr()));
    await allHealthy(
      c,
      fixtures.map((f) => f.id),
      60_000,
    );
    const budget = new RoundBudget(deadline, plan.rounds);
    const ratios: number[] = [];
    const viaCoordinator: number[] = [];
    const aggP50: number[] = [];
    const directP50: number[] = [];
    const proxiedP50: number[] = [];
    const timed = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const aggregateOnce = async () => {
      const res = await c.structured<{ results: Record<string, unknown>; errors: Record<string, string> }>(
        'coordinator__aggregate',
        { tool: 'sleep', arguments: args },
      );
      const errors = Object.entries(res.errors ?? {});
      if (errors.length > 0) throw new Error(`aggregate errors: ${JSON.stringify(errors).slice(0, 200)}`);
      const got = Object.keys(res.results ?? {}).length;
      if (got !== AGGREGATE_SERVERS) throw new Error(`aggregate answered by ${got} servers`);
    };
    const directOnce = () => callChecked(client, 'sleep', args);
    const proxiedOnce = () => c.call(`${slowest.id}__sleep`, args);
    for (let i = 0; i < 2; i++) {
      await aggregateOnce();
      await directOnce();
      await proxiedOnce();
    }
    while (budget.next()) {
      const agg: number[] = [];
      const dir: number[] = [];
      const prox: number[] = [];
      try {
        for (let i = 0; i < plan.aggregateReps; i++) {
          agg.push(await timed(aggregateOnce));
          dir.push(await timed(directOnce));
          prox.push(await timed(proxiedOnce));
        }
      } finally {
        budget.end();
      }
      ratios.push(median(agg) / median(dir));
      viaCoordinator.push(median(agg) / median(prox));
      aggP50.push(median(agg));
      directP50.push(median(dir));
      proxiedP50.push(median(prox));
      ctx.log(
        `  batch ${budget.completed}: aggregate ${median(agg).toFixed(1)} ms, slowest direct ` +
          `${median(dir).toFixed(1)} ms, through the coordinator ${median(prox).toFixed(1)} ms`,
      );
    }
    return [
      roundsRow(
        AGGREGATE_ROW,
        ratios,
        '×',
        { op: '<=', value: 1.3 },
        `rounds are batches of ${plan.aggregateReps} alternating calls on one coordinator; ` +
          `direct = an SDK client of its own on the slowest fixture (--sleep-extra ${(AGGREGATE_SERVERS - 1) * SLEEP_EXTRA_STEP_MS})`,
      ),
      roundsRow('aggregate: wall, p50', aggP50, 'ms'),
      roundsRow("aggregate: slowest server's direct call, p50", directP50, 'ms'),
      roundsRow(
        `aggregate: wall ÷ the slowest server called through the coordinator (\`${slowest.id}__sleep\`)`,
        viaCoordinator,
        '×',
      ),
      roundsRow(`aggregate: \`${slowest.id}__sleep\` through the coordinator, p50`, proxiedP50, 'ms'),
    ];
  } finally {
    await Promise.allSettled([directSession.close(), c.close()]);
  }
}

function hasFiles(dir: string): boolean {
  try {
    return existsSync(dir) && readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

async function warmCatalog(ctx: SectionContext, plan: RoutingPlan, deadline: number): Promise<BenchRow[]> {
  const target = { op: '<=' as const, value: WARM_TARGET_MS };
  const dir = tempDir('warm');
  const cacheDir = join(dir, 'catalog-cache');
  const specs = servers(WARM_SERVERS, 0);
  const expected = expectedNames(specs);
  const config = fixtureConfig(
    specs.map((s) => ({ id: s.id, flags: ['--start-delay', String(START_DELAY_MS)] })),
    { cacheDir },
  );
  // Warm-up: a full catalog once, so the cache has every server.
  const warm = await launchCoordinator(config, { dir });
  try {
    await waitForFullList(warm.session, expected, 60_000);
    await pollUntil('catalog cache file', () => (hasFiles(cacheDir) ? true : undefined), 5_000, 50).catch(
      () => undefined,
    );
  } finally {
    await warm.close();
  }
  if (!hasFiles(cacheDir)) {
    ctx.log('  nothing in cacheDir after the warm-up run');
    return [naRow(WARM_ROW, 'ms', target, 'n/a: warm catalog not wired')];
  }
  const budget = new RoundBudget(deadline, plan.rounds);
  const cold: number[] = [];
  const handshake: number[] = [];
  const floor: number[] = [];
  const lists: number[] = [];
  while (budget.next()) {
    // The floor, same round: a coordinator with no servers at all, spawn → initialize answered.
    const empty = await launchCoordinator({ servers: {} });
    floor.push(empty.connectedAt - empty.spawnedAt);
    await empty.close();
    const c = await launchCoordinator(config, { dir });
    try {
      const counted = countLists(c);
      await waitForFullList(counted, expected, 2 * START_DELAY_MS + WAIT_MS);
      cold.push(performance.now() - c.spawnedAt);
      handshake.push(c.connectedAt - c.spawnedAt);
      lists.push(counted.lists);
      ctx.log(
        `  round ${budget.completed + 1}: full catalog ${Math.round(cold.at(-1)!)} ms after spawn ` +
          `(initialize answered after ${Math.round(handshake.at(-1)!)} ms; ${counted.lists} tools/list; ` +
          `a coordinator without servers answered initialize after ${Math.round(floor.at(-1)!)} ms)`,
      );
    } finally {
      await c.close();
      budget.end();
    }
  }
  return [
    roundsRow(
      WARM_ROW,
      cold,
      'ms',
      target,
      `after one run that warmed cacheDir; each round a fresh coordinator process (${expected.size} tools); ` +
        `tools/list calls until full: ${lists.join(', ')}`,
    ),
    roundsRow('warm-catalog cold start: of which spawn → `initialize` answered', handshake, 'ms'),
    roundsRow(
      'warm-catalog cold start: floor, a coordinator without servers, spawn → `initialize` answered',
      floor,
      'ms',
      undefined,
      'node start-up and module loading alone, same round',
    ),
  ];
}

const PROBE_ROW = `era probe on a cold start: spawn → full \`tools/list\`, ${WARM_SERVERS} legacy servers, protocol auto ÷ protocol legacy`;

/**
 * What detecting each server's era costs a cold start (no warm catalog): the same 10 legacy
 * fixtures with `protocol: auto` (a `server/discover` probe first) and pinned `protocol: legacy`
 * (no probe), the two launched in turn within each round.
 */
async function eraProbe(ctx: SectionContext, plan: RoutingPlan, deadline: number): Promise<BenchRow[]> {
  const specs = servers(WARM_SERVERS, 0);
  const expected = expectedNames(specs);
  const configOf = (protocol: 'auto' | 'legacy') =>
    fixtureConfig(
      specs.map((s) => ({ id: s.id, keys: { protocol } })),
      { cacheDir: '' },
    );
  const budget = new RoundBudget(deadline, plan.rounds);
  const ratios: number[] = [];
  const walls: Record<'auto' | 'legacy', number[]> = { auto: [], legacy: [] };
  while (budget.next()) {
    try {
      const order: Array<'auto' | 'legacy'> =
        budget.completed % 2 === 0 ? ['auto', 'legacy'] : ['legacy', 'auto'];
      const wall: Partial<Record<'auto' | 'legacy', number>> = {};
      for (const protocol of order) {
        const c = await launchCoordinator(configOf(protocol));
        try {
          await waitForFullList(c.session, expected, WAIT_MS);
          wall[protocol] = performance.now() - c.spawnedAt;
        } finally {
          await c.close();
        }
      }
      walls.auto.push(wall.auto!);
      walls.legacy.push(wall.legacy!);
      ratios.push(wall.auto! / wall.legacy!);
      ctx.log(
        `  round ${budget.completed + 1}: auto ${Math.round(wall.auto!)} ms, legacy ${Math.round(wall.legacy!)} ms`,
      );
    } finally {
      budget.end();
    }
  }
  return [
    roundsRow(PROBE_ROW, ratios, '×', { op: '<=', value: 1.1 }, 'ratio within each round, then the median'),
    roundsRow('era probe on a cold start: protocol auto, spawn → full `tools/list`', walls.auto, 'ms'),
    roundsRow(
      'era probe on a cold start: protocol legacy (no probe), spawn → full `tools/list`',
      walls.legacy,
      'ms',
    ),
  ];
}

/** The process's Session, counting its `tools/list` rounds (all pages of one list count once). */
function countLists(c: CoordinatorProcess): Session & { lists: number } {
  const counted: Session & { lists: number } = {
    ...c.session,
    lists: 0,
    listToolNames: () => {
      counted.lists++;
      return c.session.listToolNames();
    },
  };
  return counted;
}
