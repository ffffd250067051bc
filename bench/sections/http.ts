/**
 * Issue 11, "Speed and load": the coordinator's HTTP face side by side with the v2 SDK's own
 * Streamable HTTP server (the baseline) and the npm bridges/aggregators (http-targets.ts), all in
 * one run, all open at once, with the echo of the tool-server fixture behind every one.
 *
 * Rounds: every (contestant, client era) slot, in an order rotating each round, gets a burst of
 * 32 echo calls in flight (throughput, p50, p99 of those calls), then sequential calls (p50, p99
 * one at a time). Ratios to the SDK server are taken per round against the SDK server with the
 * same client era (mcp-hub, legacy only, against the legacy one), then medianed.
 *
 * Then the load (http-load.ts): N clients (half modern, half legacy) × M calls on a fresh
 * coordinator; and `/route` and `/api/tools?q=` with 5,000 tools behind a third.
 */
import { performance } from 'node:perf_hooks';
import { httpContestants, type Era, type HttpContestant, type HttpLaunch } from '../http-targets.js';
import { loadRows, restRows } from '../http-load.js';
import { echoLatency, sanityCheck, throughput } from '../measure.js';
import { cpuNs, withTimeout } from '../procs.js';
import { fmtRange, fmtValue } from '../report.js';
import { errorText, naRow, roundsRow, RoundBudget, type RowTarget } from '../rows.js';
import type { Session } from '../session.js';
import { percentile, spread, type Spread } from '../stats.js';
import type { BenchRow, SectionContext, SectionReport } from '../types.js';

const IN_FLIGHT = 32;
const PLAN = {
  full: { rounds: 3, burstMs: 2_500, seqCalls: 300, seqMs: 1_500, sideBySideMs: 200_000, restMs: 45_000 },
  quick: { rounds: 1, burstMs: 1_000, seqCalls: 50, seqMs: 500, sideBySideMs: 40_000, restMs: 20_000 },
};
const TARGETS: Record<string, RowTarget> = {
  sdkThroughput: { op: '>=', value: 3 },
  peerThroughput: { op: '>=', value: 5 },
  sdkP50: { op: '<=', value: 0.5 },
};

interface Slot {
  id: string;
  label: string;
  contestant: string;
  era: Era;
  session?: Session;
  /** The process serving HTTP (its CPU per call is shown). */
  pid?: number;
  /** Why it was not measured. */
  notRun?: string;
}

interface Sample {
  throughput: number;
  p50: number;
  p99: number;
  seqP50: number;
  seqP99: number;
  cpuMs: number;
}

type Figure = keyof Sample;
const FIGURES: readonly { id: Figure; title: string; unit: string; ratio?: boolean }[] = [
  { id: 'throughput', title: `throughput, ${IN_FLIGHT} in flight`, unit: 'calls/s', ratio: true },
  { id: 'p50', title: `p50, ${IN_FLIGHT} in flight`, unit: 'ms', ratio: true },
  { id: 'p99', title: `p99, ${IN_FLIGHT} in flight`, unit: 'ms' },
  { id: 'seqP50', title: 'p50, 1 in flight', unit: 'ms', ratio: true },
  { id: 'seqP99', title: 'p99, 1 in flight', unit: 'ms' },
  { id: 'cpuMs', title: `CPU of the serving process per call, ${IN_FLIGHT} in flight`, unit: 'ms' },
];

export async function run(ctx: SectionContext): Promise<SectionReport> {
  const t0 = performance.now();
  const plan = ctx.quick ? PLAN.quick : PLAN.full;
  const launches: HttpLaunch[] = [];
  const slots: Slot[] = [];
  const perRound = new Map<string, (Sample | { error: string })[]>();
  let rounds = 0;
  try {
    for (const c of httpContestants) await launch(ctx, c, launches, slots);
    for (const s of slots) perRound.set(s.id, []);
    const live = slots.filter((s) => s.session);
    const budget = new RoundBudget(t0 + Math.min(plan.sideBySideMs, ctx.budgetMs / 3), plan.rounds);
    while (budget.next()) {
      const order = live.map((_, i) => live[(i + rounds) % live.length]!);
      for (const s of order) {
        ctx.log(`round ${rounds + 1}: ${s.label}`);
        perRound.get(s.id)!.push(await measureSlot(s, plan).catch((e) => ({ error: errorText(e) })));
      }
      budget.end();
      rounds++;
    }
  } finally {
    await Promise.allSettled(launches.map((l) => l.stop()));
  }
  const rows = targetRows(slots, perRound);
  rows.push(...(await loadRows(ctx, t0 + ctx.budgetMs - plan.restMs)));
  rows.push(...(await restRows(ctx, t0 + ctx.budgetMs - 5_000)));
  return { rows, markdown: sideBySide(slots, perRound, rounds) };
}

/** Starts one contestant and opens a session per era; failures become the slots' reasons. */
async function launch(ctx: SectionContext, c: HttpContestant, launches: HttpLaunch[], slots: Slot[]) {
  const mine: Slot[] = c.eras.map((era) => ({
    id: `${c.id}/${era}`,
    label: c.eras.length > 1 ? `${c.label} (${era})` : c.label,
    contestant: c.id,
    era,
  }));
  slots.push(...mine);
  const why = await c.unavailable();
  if (why) return mine.forEach((s) => (s.notRun = why));
  ctx.log(`starting ${c.label}`);
  let l: HttpLaunch;
  try {
    l = await c.start();
  } catch (error) {
    return mine.forEach((s) => (s.notRun = `did not start: ${errorText(error)}`));
  }
  launches.push(l);
  for (const s of mine) {
    s.pid = l.pid;
    try {
      s.session = await l.connect(s.era);
      await sanityCheck(s.session, 'fx');
      await throughput(s.session, ['fx'], IN_FLIGHT, 500, 500); // warm-up
    } catch (error) {
      s.session = undefined;
      s.notRun = `failed: ${errorText(error)}`;
    }
  }
}

async function measureSlot(slot: Slot, plan: (typeof PLAN)['full']): Promise<Sample> {
  const session = slot.session!;
  const cpu0 = slot.pid === undefined ? undefined : cpuNs(slot.pid);
  const burst = await withTimeout(
    throughput(session, ['fx'], IN_FLIGHT, plan.burstMs, Number.POSITIVE_INFINITY),
    plan.burstMs + 15_000,
    'burst',
  );
  const cpu1 = slot.pid === undefined ? undefined : cpuNs(slot.pid);
  const seq = await echoLatency(session, 'fx', plan.seqCalls, plan.seqMs);
  return {
    throughput: (burst.calls / burst.ms) * 1000,
    p50: percentile(burst.samples, 0.5),
    p99: percentile(burst.samples, 0.99),
    seqP50: percentile(seq.samples, 0.5),
    seqP99: percentile(seq.samples, 0.99),
    cpuMs: cpu0 === undefined || cpu1 === undefined ? Number.NaN : (cpu1 - cpu0) / 1e6 / burst.calls,
  };
}

type Rounds = Map<string, (Sample | { error: string })[]>;
const value = (x: Sample | { error: string } | undefined, f: Figure) =>
  x && !('error' in x) ? x[f] : Number.NaN;

/** The SDK server's slot a slot is compared with: same client era. */
const baselineOf = (s: Slot) => `sdk-http/${s.era}`;

/** Per-round ratio of slot `a` to slot `b` on figure `f`. */
function ratios(results: Rounds, a: string, b: string, f: Figure): number[] {
  const x = results.get(a) ?? [];
  const y = results.get(b) ?? [];
  return x.map((r, i) => value(r, f) / value(y[i], f));
}

function targetRows(slots: Slot[], results: Rounds): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const era of ['modern', 'legacy'] as const) {
    const coord = slots.find((s) => s.id === `coordinator/${era}`)!;
    const vs = (other: Slot, f: Figure, target: RowTarget, what: string) => {
      const name = `coordinator (${era}) ${what} ÷ ${other.label}`;
      if (coord.notRun || other.notRun) return naRow(name, '×', target, (coord.notRun ?? other.notRun)!);
      return roundsRow(name, ratios(results, coord.id, other.id, f), '×', target);
    };
    const sdk = slots.find((s) => s.id === `sdk-http/${era}`)!;
    rows.push(vs(sdk, 'throughput', TARGETS.sdkThroughput!, 'throughput'));
    rows.push(vs(sdk, 'p50', TARGETS.sdkP50!, `p50 (${IN_FLIGHT} in flight)`));
    for (const peer of slots.filter(
      (s) => s.era === era && !['coordinator', 'sdk-http'].includes(s.contestant),
    )) {
      rows.push(vs(peer, 'throughput', TARGETS.peerThroughput!, 'throughput'));
    }
  }
  return rows;
}

function sideBySide(slots: Slot[], results: Rounds, rounds: number): string {
  const notes: string[] = [];
  const note = (text: string) => {
    const i = notes.indexOf(text);
    return `[h${i < 0 ? notes.push(text) : i + 1}]`;
  };
  const fmt = (s: Spread, unit: string) =>
    `${fmtValue(s.median, unit)}${fmtRange(s, (v) => fmtValue(v, unit))}`;
  const out = [
    `| http, echo | ${slots.map((s) => s.label).join(' | ')} |`,
    `|---|${slots.map(() => '---|').join('')}`,
  ];
  for (const f of FIGURES) {
    const cells = slots.map((s) => {
      if (s.notRun) return `not run ${note(`${s.label}: ${s.notRun}`)}`;
      const list = results.get(s.id) ?? [];
      const errors = [...new Set(list.flatMap((r) => ('error' in r ? [r.error] : [])))];
      const v = spread(list.map((r) => value(r, f.id)));
      const refs = errors.map((e) => note(`${s.label}: ${e}`)).join('');
      return v ? `${fmt(v, f.unit)}${refs}` : `failed ${refs}`;
    });
    out.push(`| ${f.title} | ${cells.join(' | ')} |`);
    if (!f.ratio) continue;
    const ratioCells = slots.map((s) => {
      if (s.notRun || s.contestant === 'sdk-http') return '—';
      const r = spread(ratios(results, s.id, baselineOf(s), f.id));
      return r ? `${r.median.toFixed(2)}×${fmtRange(r, (v) => v.toFixed(2))}` : '—';
    });
    out.push(`| ${f.title} ÷ SDK (same era) | ${ratioCells.join(' | ')} |`);
  }
  out.push(
    '',
    `Median over ${rounds} interleaved round(s), [min–max] across rounds; ratios within a round, then medianed. ` +
      `Clients: v2 SDK Client over StreamableHTTPClientTransport, modern = pinned 2026-07-28, legacy = initialize handshake; mcp-hub: its SSE endpoint, v1 SDK client.`,
  );
  if (notes.length) out.push('', ...notes.map((n, i) => `h${i + 1}. ${n}`));
  return `${out.join('\n')}\n`;
}
