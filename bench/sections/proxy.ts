/**
 * The proxy section: every contestant in front of the same fixture. Machine noise must hit all
 * alike, so rounds rotate the order, and within a round the one-server figures take turns in
 * slices (50 calls, 250 ms of load, one repetition) across sessions open side by side. One
 * warm-up pass first. A failure is recorded against its figure, contestant and round; the run
 * goes on.
 */
import { performance } from 'node:perf_hooks';
import { FIGURES, type FigureId, type Plan } from '../figures.js';
import { expectedNames, servers, type ServerSpec } from '../fixture.js';
import { concurrentSleep, echoLatency, listLatency, sanityCheck, throughput } from '../measure.js';
import { cpuNs, peakRssMb, withTimeout } from '../procs.js';
import { CONNECT_TIMEOUT_MS, waitForFullList, type Contestant, type Session } from '../session.js';
import { median, percentile, round } from '../stats.js';
import type { SectionContext } from '../types.js';

export interface Sample {
  value?: number;
  error?: string;
  /** Raw samples behind `value`: ms per call or repetition; calls/s per slice for throughput. */
  raw?: number[];
}

export interface ContestantInfo {
  id: string;
  label: string;
  /** Set when the contestant could not run at all here. */
  unavailable?: string;
  /** Measured on the one-server figures only. */
  oneServerOnly?: boolean;
}

export interface ProxyResult {
  plan: Plan;
  contestants: ContestantInfo[];
  /** Rounds actually completed (the budget may cut a full run short). */
  rounds: number;
  /** results[figure][contestant][round] */
  results: Record<FigureId, Record<string, Sample[]>>;
  durationMs: number;
}

export const ONE_SERVER: readonly FigureId[] = [
  'echo_p50',
  'echo_p99',
  'throughput',
  'sleep32',
  'cpu_echo',
  'cpu_burst',
];
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
const ms = (values: number[]) => values.map((v) => round(v, 4));

export async function runProxySection(
  ctx: SectionContext,
  plan: Plan,
  contestants: readonly Contestant[],
): Promise<ProxyResult> {
  const t0 = performance.now();
  const info: ContestantInfo[] = [];
  for (const c of contestants) {
    const entry: ContestantInfo = { id: c.id, label: c.label, unavailable: await c.unavailable() };
    if (c.oneServerOnly) entry.oneServerOnly = true;
    info.push(entry);
  }
  const results = Object.fromEntries(
    FIGURES.map((f) => [f.id, Object.fromEntries(contestants.map((c) => [c.id, [] as Sample[]]))]),
  ) as ProxyResult['results'];

  const record = (figure: FigureId, c: Contestant, r: number, sample: Sample) => {
    results[figure][c.id]![r] = sample;
  };
  const fail = (figures: FigureId[], c: Contestant, r: number, error: unknown) => {
    for (const f of figures) if (!results[f][c.id]![r]) record(f, c, r, { error: errorText(error) });
  };

  const one = servers(1, 0);
  const oneExpected = expectedNames(one);
  const spawnSpecs = servers(plan.spawnServers, plan.spawnSynthetic);
  const spawnExpected = expectedNames(spawnSpecs);
  const bigSpecs = servers(plan.bigServers, plan.bigSynthetic);
  const bigExpected = expectedNames(bigSpecs);

  /** A one-server session in steady state: catalog complete (startup is the spawn figure), echo checked, warm. */
  const startOne = async (c: Contestant): Promise<Session> => {
    const s = await startBounded(c, one, CONNECT_TIMEOUT_MS);
    try {
      await waitForFullList(s, c.expectedNames?.(one) ?? oneExpected, CONNECT_TIMEOUT_MS);
      await sanityCheck(s, 'fx');
      await echoLatency(s, 'fx', plan.warmupCalls, plan.echoMaxMs);
      return s;
    } catch (error) {
      await s.close().catch(() => {});
      throw error;
    }
  };

  // Warm-up: JIT on both sides, disk caches; a contestant that cannot even start is out.
  for (const c of contestants) {
    const entry = info.find((i) => i.id === c.id)!;
    if (entry.unavailable) continue;
    ctx.log(`warm-up ${c.id}`);
    try {
      const s = await startOne(c);
      try {
        await throughput(s, ['fx'], plan.inFlight, plan.sliceMs, plan.throughputMaxCalls);
      } finally {
        await s.close().catch(() => {});
      }
    } catch (error) {
      entry.unavailable = `failed at warm-up: ${errorText(error)}`;
      ctx.log(`  ${c.id}: ${entry.unavailable}`);
    }
  }
  const runnable = contestants.filter((c) => !info.find((i) => i.id === c.id)!.unavailable);

  let rounds = 0;
  const roundTimes: number[] = [];
  for (let r = 0; r < plan.rounds; r++) {
    const elapsed = performance.now() - t0;
    // Projected with the median round: a run on a busy machine gets fewer rounds, never a long tail.
    if (r > 0 && elapsed + median(roundTimes) > plan.budgetMs) {
      ctx.log(`budget: stopping after ${r} round(s) (${Math.round(elapsed / 1000)} s)`);
      break;
    }
    const start = performance.now();
    const order = runnable.map((_, i) => runnable[(i + r) % runnable.length]!);
    ctx.log(`round ${r + 1}/${plan.rounds}: ${order.map((c) => c.id).join(', ')}`);
    await oneServerFigures(order, r);
    for (const c of order) if (!c.oneServerOnly) await spawnFigures(c, r);
    for (const c of order) if (c.id !== 'direct' && !c.oneServerOnly) await bigListFigure(c, r);
    rounds = r + 1;
    roundTimes.push(performance.now() - start);
    ctx.log(`  round ${r + 1} took ${Math.round(roundTimes.at(-1)! / 1000)} s`);
  }

  return { plan, contestants: info, rounds, results, durationMs: performance.now() - t0 };

  /** Latency, throughput and concurrency on one server, the contestants' sessions taking turns. */
  async function oneServerFigures(order: readonly Contestant[], r: number) {
    const live = new Map<Contestant, Session>();
    try {
      for (const c of order) {
        try {
          live.set(c, await startOne(c));
        } catch (error) {
          fail([...ONE_SERVER], c, r, error);
        }
      }

      const latencies = new Map<Contestant, number[]>();
      const echoCpu = new CpuMeter();
      const echoReps = Math.ceil(plan.echoCalls / plan.sliceCalls);
      await turns(live, r, ['echo_p50', 'echo_p99'], echoReps, plan.echoMaxMs, async (c, s) => {
        const got = latencies.get(c) ?? [];
        const { samples } = await echoCpu.around(c, s, async () => {
          const timed = await echoLatency(s, 'fx', plan.sliceCalls, plan.echoMaxMs);
          return { ...timed, calls: timed.samples.length };
        });
        latencies.set(c, got.concat(samples));
      });
      for (const [c, samples] of latencies) {
        if (results.echo_p50[c.id]![r]) continue;
        record('echo_p50', c, r, { value: percentile(samples, 0.5), raw: ms(samples) });
        record('echo_p99', c, r, { value: percentile(samples, 0.99) });
      }
      for (const [c, perCall] of echoCpu.perCallMs()) record('cpu_echo', c, r, { value: perCall });

      const bursts = new Map<Contestant, { calls: number; ms: number; rates: number[] }>();
      const burstCpu = new CpuMeter();
      const slices = Math.ceil(plan.throughputMs / plan.sliceMs);
      await turns(live, r, ['throughput'], slices, 2 * plan.throughputMs, async (c, s) => {
        const b = await burstCpu.around(c, s, () =>
          throughput(s, ['fx'], plan.inFlight, plan.sliceMs, plan.throughputMaxCalls),
        );
        const acc = bursts.get(c) ?? { calls: 0, ms: 0, rates: [] };
        bursts.set(c, {
          calls: acc.calls + b.calls,
          ms: acc.ms + b.ms,
          rates: [...acc.rates, b.calls / (b.ms / 1000)],
        });
      });
      for (const [c, b] of bursts) {
        if (results.throughput[c.id]![r]) continue;
        record('throughput', c, r, { value: b.calls / (b.ms / 1000), raw: b.rates.map((x) => round(x, 1)) });
      }
      for (const [c, perCall] of burstCpu.perCallMs()) record('cpu_burst', c, r, { value: perCall });

      const walls = new Map<Contestant, number[]>();
      await turns(live, r, ['sleep32'], plan.sleepReps, plan.sleepReps * 1000, async (c, s) => {
        const wall = await concurrentSleep(s, 'fx', plan.sleepCalls, plan.sleepMs);
        walls.set(c, [...(walls.get(c) ?? []), wall]);
      });
      for (const [c, w] of walls) {
        if (!results.sleep32[c.id]![r]) record('sleep32', c, r, { value: median(w), raw: ms(w) });
      }
    } finally {
      await Promise.allSettled([...live.values()].map((s) => s.close()));
    }
  }

  /**
   * `reps` turns of `step` on each live session, in order. A contestant that fails sits out the
   * rest; one that has used `maxMsEach` in total stops early (its samples so far count).
   */
  async function turns(
    live: Map<Contestant, Session>,
    r: number,
    figures: FigureId[],
    reps: number,
    maxMsEach: number,
    step: (c: Contestant, s: Session) => Promise<void>,
  ) {
    const out = new Set<Contestant>();
    const spent = new Map<Contestant, number>();
    for (let i = 0; i < reps; i++) {
      for (const [c, s] of live) {
        if (out.has(c) || (spent.get(c) ?? 0) > maxMsEach) continue;
        const t = performance.now();
        try {
          await step(c, s);
        } catch (error) {
          out.add(c);
          fail(figures, c, r, error);
        }
        spent.set(c, (spent.get(c) ?? 0) + performance.now() - t);
      }
    }
  }

  /** Ten servers × 50 tools: spawn → first full list, then the aggregator's peak RSS under a little load. */
  async function spawnFigures(c: Contestant, r: number) {
    const begin = performance.now();
    let session: Session | undefined;
    try {
      session = await startBounded(c, spawnSpecs, plan.spawnTimeoutMs);
      await waitForFullList(session, spawnExpected, plan.spawnTimeoutMs);
      record('spawn', c, r, { value: performance.now() - begin });
      const pid = session.measuredPid;
      if (pid === undefined) return;
      const ids = spawnSpecs.map((spec) => spec.id);
      await throughput(session, ids, plan.inFlight, plan.rssBurstMs, plan.throughputMaxCalls);
      await session.listToolNames();
      const rss = peakRssMb(pid);
      if (rss === undefined) throw new Error(`cannot read /proc/${pid}/status`);
      record('rss', c, r, { value: rss });
    } catch (error) {
      fail(c.id === 'direct' ? ['spawn'] : ['spawn', 'rss'], c, r, error);
    } finally {
      await session?.close().catch(() => {});
    }
  }

  /** 5,000 tools through the hop: full tools/list (all pages) latency. */
  async function bigListFigure(c: Contestant, r: number) {
    let session: Session | undefined;
    try {
      session = await startBounded(c, bigSpecs, plan.spawnTimeoutMs);
      await waitForFullList(session, bigExpected, plan.spawnTimeoutMs);
      await listLatency(session, bigExpected.size, 3, plan.bigListMaxMs);
      const { samples } = await listLatency(session, bigExpected.size, plan.bigLists, plan.bigListMaxMs);
      record('list5000', c, r, { value: percentile(samples, 0.5), raw: ms(samples) });
    } catch (error) {
      fail(['list5000'], c, r, error);
    } finally {
      await session?.close().catch(() => {});
    }
  }
}

/** CPU of each contestant's hop process over the steps it ran, per call. */
class CpuMeter {
  private readonly totals = new Map<Contestant, { ns: number; calls: number }>();

  async around<T extends { calls: number }>(c: Contestant, s: Session, step: () => Promise<T>): Promise<T> {
    const pid = s.measuredPid;
    const before = pid === undefined ? undefined : cpuNs(pid);
    const result = await step();
    const after = pid === undefined ? undefined : cpuNs(pid);
    if (before !== undefined && after !== undefined) {
      const acc = this.totals.get(c) ?? { ns: 0, calls: 0 };
      this.totals.set(c, { ns: acc.ns + after - before, calls: acc.calls + result.calls });
    }
    return result;
  }

  /** ms per call, for every contestant that has a hop process and made calls. */
  perCallMs(): Array<[Contestant, number]> {
    return [...this.totals].filter(([, t]) => t.calls > 0).map(([c, t]) => [c, t.ns / 1e6 / t.calls]);
  }
}

/** Starts a contestant within `timeoutMs`; a start that resolves after its timeout is still closed. */
async function startBounded(
  c: Contestant,
  specs: readonly ServerSpec[],
  timeoutMs: number,
): Promise<Session> {
  const starting = c.start(specs);
  try {
    return await withTimeout(starting, timeoutMs, `${c.id} start`);
  } catch (error) {
    starting.then((s) => s.close()).catch(() => {});
    throw error;
  }
}
