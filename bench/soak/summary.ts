/** The soak's one table, and the reasons (if any) it fails. */
import { formatTable } from '../../src/cli/output.js';
import type { ClientEra } from './clients.js';
import type { EventCheck } from './events.js';
import type { RssSeries } from './processes.js';
import { percentile, type Tally } from './tally.js';

export interface SoakSummary {
  mode: 'http' | 'stdio';
  /** `--http` only: the lock events the follower received, checked against the clients' grants. */
  events: (EventCheck & { connects: number; failedConnects: number }) | undefined;
  total: number;
  clients: ClientEra[];
  elapsedMs: number;
  tally: Tally;
  rss: RssSeries;
  childrenAtEnd: number;
  expectedChildren: number;
  childrenSeen: number;
  orphans: number[];
  redisRestarts: number;
}

/** RSS may grow by this much (or this share of its start) over a run before it counts as unbounded. */
const RSS_GROWTH_MB = 64;
const RSS_GROWTH_SHARE = 0.5;

/** The largest growth end − start among the coordinators, and whether it is past the bound. */
function rssGrowth(rss: RssSeries): { startMb: number; endMb: number; growthMb: number; unbounded: boolean } {
  let worst = { startMb: 0, endMb: 0, growthMb: -Infinity, unbounded: false };
  for (const [pid, startMb] of rss.start) {
    const endMb = rss.last.get(pid) ?? startMb;
    const growthMb = endMb - startMb;
    const unbounded = growthMb > Math.max(RSS_GROWTH_MB, startMb * RSS_GROWTH_SHARE);
    if (unbounded || growthMb > worst.growthMb) worst = { startMb, endMb, growthMb, unbounded };
    if (unbounded) break;
  }
  return worst;
}

export function verdict(s: SoakSummary): string[] {
  const reasons: string[] = [];
  for (const [kind, { count, example }] of s.tally.unexpected)
    reasons.push(`${count} × ${kind} (e.g. ${example})`);
  if (s.tally.doubleGrants > 0) reasons.push(`${s.tally.doubleGrants} double lock grants`);
  const e = s.events;
  if (e) {
    if (e.overlaps.length > 0) reasons.push(`lock events overlap: ${e.overlaps.slice(0, 3).join('; ')}`);
    if (e.duplicates > 0) reasons.push(`${e.duplicates} events delivered twice`);
    const lost = e.missingLocked.length + e.missingUnlocked.length;
    if (lost > 0)
      reasons.push(
        `${lost} lock events never arrived (e.g. ${[...e.missingLocked, ...e.missingUnlocked][0]})`,
      );
  }
  if (rssGrowth(s.rss).unbounded) reasons.push('coordinator RSS grew without bound');
  if (s.childrenAtEnd !== s.expectedChildren)
    reasons.push(`${s.childrenAtEnd} downstreams alive at the end, ${s.expectedChildren} configured`);
  if (s.orphans.length > 0) reasons.push(`still alive after exit: ${s.orphans.join(', ')}`);
  if (s.redisRestarts !== 2) reasons.push(`Redis restarted ${s.redisRestarts} times, not 2`);
  return reasons;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;
const ms = (n: number) => `${n.toFixed(2)} ms`;

/** The peak of each tenth of the samples: the shape of the memory curve in one line. */
function tenths(samples: readonly number[]): number[] {
  const out: number[] = [];
  for (let t = 0; t < 10; t++) {
    const part = samples.slice(
      Math.floor((t * samples.length) / 10),
      Math.floor(((t + 1) * samples.length) / 10),
    );
    if (part.length > 0) out.push(Math.max(...part));
  }
  return out;
}

export function printSummary(s: SoakSummary): void {
  const { tally } = s;
  const legacy = s.clients.filter((e) => e === 'legacy').length;
  const growth = rssGrowth(s.rss);
  const failedExpected = [...tally.expected].map(([k, n]) => [`failed, expected: ${k}`, String(n)]);
  const failedOther = [...tally.unexpected].map(([k, v]) => [`FAILED: ${k}`, String(v.count)]);
  const okBy = [...tally.okByTarget].map(([t, n]) => [`ok: ${t}`, String(n)]);
  const rows: string[][] = [
    [
      'clients',
      `${s.clients.length} (${legacy} legacy v1, ${s.clients.length - legacy} modern v2), ${
        s.mode === 'http'
          ? 'one serve --http coordinator, Streamable HTTP, an API key (agent) each'
          : 'one stdio coordinator each'
      }`,
    ],
    ['calls', `${tally.calls} (asked ${s.total}) in ${(s.elapsedMs / 1000).toFixed(1)} s`],
    ['calls ok', String(tally.ok)],
    ...okBy,
    ...failedExpected,
    ...failedOther,
    ['lock refusals (held by another)', String(tally.lockRefusals)],
    ['double lock grants', String(tally.doubleGrants)],
    [
      'latency p50 / p99 (ok calls)',
      `${ms(percentile(tally.latenciesMs, 50))} / ${ms(percentile(tally.latenciesMs, 99))}`,
    ],
    ...eventRows(s.events),
    ['redis restarts', String(s.redisRestarts)],
    [s.mode === 'http' ? 'coordinator RSS peak' : 'coordinator RSS peak (largest of all)', mb(s.rss.peak)],
    [
      'coordinator RSS start → end (worst growth)',
      `${mb(growth.startMb)} → ${mb(growth.endMb)} (${growth.growthMb >= 0 ? '+' : ''}${mb(growth.growthMb)})`,
    ],
    [
      'RSS over the run (largest, per tenth)',
      tenths(s.rss.samples)
        .map((n) => n.toFixed(0))
        .join(' ') + ' MB',
    ],
    ['RSS samples', `${s.rss.samples.length} (every 500 ms)`],
    ['downstreams alive at end', `${s.childrenAtEnd} of ${s.expectedChildren} configured`],
    ['downstream pids seen over the run', String(s.childrenSeen)],
    ['processes alive after exit', String(s.orphans.length)],
  ];
  const reasons = verdict(s);
  rows.push(['verdict', reasons.length === 0 ? 'PASS' : `FAIL: ${reasons.join('; ')}`]);
  for (const line of formatTable(['SOAK', 'VALUE'], rows)) process.stdout.write(`${line}\n`);
}

function eventRows(e: SoakSummary['events']): string[][] {
  if (!e) return [];
  return [
    ['event streams opened (Last-Event-ID) / refused', `${e.connects} / ${e.failedConnects}`],
    ['lock events received: locked / unlocked / expired', `${e.locked} / ${e.unlocked} / ${e.expired}`],
    ['grants / releases without their event', `${e.missingLocked.length} / ${e.missingUnlocked.length}`],
    ['events delivered twice', String(e.duplicates)],
    ['lock intervals overlapping across agents (events)', String(e.overlaps.length)],
  ];
}
