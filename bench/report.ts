/**
 * From raw per-round samples to the figures people read: medians over rounds, min–max, ratios
 * taken within a round and then medianed; a markdown table for stdout and the full JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { FIGURES, meets, targetText, type Figure } from './figures.js';
import { ONE_SERVER, type ProxyResult } from './sections/proxy.js';
import { round, spread, type Spread } from './stats.js';
import type { BenchRow } from './types.js';

export interface CellSummary {
  value?: Spread;
  /** Ratio to direct, per round, then median and range. */
  ratio?: Spread;
  /** Ratio to the byte relay (the floor of a stdio hop), per round, then median and range. */
  relay?: Spread;
  errors: string[];
}

export interface FigureSummary {
  id: string;
  title: string;
  unit: string;
  target?: string;
  /** Does the coordinator meet the target (median)? undefined when it has no figure. */
  pass?: boolean;
  contestants: Record<string, CellSummary>;
}

export interface SectionOutcome {
  rows: BenchRow[];
  /** The section's own table (http: contestants side by side). */
  markdown?: string;
  error?: string;
  skipped?: string;
}

export function summarise(proxy: ProxyResult): FigureSummary[] {
  return FIGURES.map((f) => {
    const perRound = proxy.results[f.id];
    const direct = perRound.direct ?? [];
    const relay = perRound.relay ?? [];
    const contestants: Record<string, CellSummary> = {};
    for (const c of proxy.contestants) {
      const samples = perRound[c.id] ?? [];
      const values = samples.map((s) => s?.value ?? Number.NaN);
      const ratios = samples.map((s, r) => (s?.value ?? Number.NaN) / (direct[r]?.value ?? Number.NaN));
      const errors = [...new Set(samples.map((s) => s?.error).filter((e): e is string => !!e))];
      const toRelay = samples.map((s, r) => (s?.value ?? Number.NaN) / (relay[r]?.value ?? Number.NaN));
      contestants[c.id] = {
        value: spread(values),
        ratio: f.ratio && c.id !== 'direct' ? spread(ratios) : undefined,
        relay: RELAY_FIGURES.includes(f.id) && c.id !== 'relay' ? spread(toRelay) : undefined,
        errors,
      };
    }
    const coord = contestants.coordinator;
    const measured = f.target?.onRatio ? coord?.ratio : coord?.value;
    return {
      id: f.id,
      title: f.title,
      unit: f.unit,
      target: f.target ? targetText(f.target, f.unit) : undefined,
      pass: f.target && measured ? meets(f.target, measured.median) : undefined,
      contestants,
    };
  });
}

/** Figures also shown × the byte relay, and the coordinator's targets there (issue 8). */
const RELAY_FIGURES: readonly string[] = ['echo_p50', 'throughput'];
const RELAY_TARGETS: Record<string, string> = { echo_p50: '≤ 1.3×', throughput: '≥ 0.7×' };

export function fmtValue(v: number, unit: string): string {
  if (unit === 'ms' && v < 1) return `${Math.round(v * 1000)} µs`;
  if (unit === 'ms') return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ms`;
  if (unit === 'calls/s') return `${Math.round(v).toLocaleString('en-US')}/s`;
  return `${v.toFixed(1)} ${unit}`;
}

export const fmtRange = (s: Spread, f: (v: number) => string) =>
  s.n > 1 ? ` [${f(s.min)}–${f(s.max)}]` : '';

class Notes {
  readonly lines: string[] = [];
  ref(text: string): string {
    let i = this.lines.indexOf(text);
    if (i < 0) i = this.lines.push(text) - 1;
    return `[${i + 1}]`;
  }
}

function cell(
  f: Figure,
  id: string,
  s: FigureSummary,
  unavailable: string | undefined,
  notes: Notes,
  rounds: number,
  oneServerOnly = false,
): string {
  if (id === 'direct' && !f.direct) return '—';
  if (unavailable) return `n/a ${notes.ref(`${id}: ${unavailable}`)}`;
  if (oneServerOnly && !ONE_SERVER.includes(f.id)) return '—';
  const c = s.contestants[id];
  // One note per distinct error of a contestant, however many figures it hit.
  const refs = (c?.errors ?? []).map((e) => notes.ref(`${id}: ${e}`)).join('');
  if (!c?.value) return `failed ${refs}`;
  const failed = refs ? ` ${refs} (${c.value.n}/${rounds} rounds)` : '';
  const abs = fmtValue(c.value.median, f.unit);
  if (!f.ratio) return `${abs}${fmtRange(c.value, (v) => fmtValue(v, f.unit))}${failed}`;
  if (id === 'direct') return `1.00 (${abs}${fmtRange(c.value, (v) => fmtValue(v, f.unit))})${failed}`;
  if (!c.ratio) return `${abs}, no direct to compare${failed}`;
  return `${c.ratio.median.toFixed(2)}×${fmtRange(c.ratio, (v) => v.toFixed(2))} (${abs})${failed}`;
}

export function markdown(
  proxy: ProxyResult | undefined,
  summary: FigureSummary[] | undefined,
  sections: Record<string, SectionOutcome>,
  header: string,
): string {
  const out = [header, ''];
  const notes = new Notes();
  if (proxy && summary) {
    const cols = proxy.contestants;
    out.push(`| figure | ${cols.map((c) => c.label).join(' | ')} | target | pass? |`);
    out.push(`|---|${cols.map(() => '---|').join('')}---|---|`);
    for (const f of FIGURES) {
      const s = summary.find((x) => x.id === f.id)!;
      const cells = cols.map((c) => cell(f, c.id, s, c.unavailable, notes, proxy.rounds, c.oneServerOnly));
      const pass = s.pass === undefined ? '—' : s.pass ? 'yes' : '**no**';
      out.push(`| ${f.title} | ${cells.join(' | ')} | ${s.target ?? ''} | ${pass} |`);
    }
    out.push('');
    out.push(
      `Median over ${proxy.rounds} interleaved round(s), [min–max] across rounds; ratios are taken within a round, then medianed.`,
    );
    const others = cols.filter((c) => c.id !== 'relay' && !c.unavailable);
    if (cols.some((c) => c.id === 'relay' && !c.unavailable)) {
      out.push('', `| × byte relay | ${others.map((c) => c.label).join(' | ')} | coordinator target |`);
      out.push(`|---|${others.map(() => '---|').join('')}---|`);
      for (const id of RELAY_FIGURES) {
        const s = summary.find((x) => x.id === id)!;
        const cells = others.map((c) => {
          const r = s.contestants[c.id]?.relay;
          return r && Number.isFinite(r.median)
            ? `${r.median.toFixed(2)}×${fmtRange(r, (v) => v.toFixed(2))}`
            : '—';
        });
        out.push(`| ${s.title.replace(/, × direct.*$/, '')} | ${cells.join(' | ')} | ${RELAY_TARGETS[id]} |`);
      }
    }
  }
  const sectionIds = Object.keys(sections);
  if (sectionIds.length) {
    out.push('', '| section | figure | value | target | pass? |', '|---|---|---|---|---|');
    for (const id of sectionIds) {
      const o = sections[id]!;
      if (o.skipped || o.error) {
        out.push(
          `| ${id} | — | ${o.skipped ? 'skipped' : 'failed'} ${notes.ref(`${id}: ${o.skipped ?? o.error}`)} | | |`,
        );
      }
      for (const row of o.rows) {
        const range =
          row.min !== undefined && row.max !== undefined && (row.rounds ?? 2) > 1
            ? ` [${round(row.min, 3)}–${round(row.max, 3)}]`
            : '';
        const value = row.value === null ? 'n/a' : `${round(row.value, 3)} ${row.unit}${range}`;
        const note = row.note ? ` ${notes.ref(`${id}, ${row.name}: ${row.note}`)}` : '';
        const pass = row.pass === undefined ? '—' : row.pass ? 'yes' : '**no**';
        out.push(`| ${id} | ${row.name} | ${value}${note} | ${row.target ?? ''} | ${pass} |`);
      }
    }
  }
  if (sectionIds.some((id) => sections[id]!.rows.some((r) => (r.rounds ?? 0) > 1))) {
    out.push('', 'Section values with [min–max]: median over rounds, range across rounds.');
  }
  for (const id of sectionIds) {
    const table = sections[id]!.markdown;
    if (table) out.push('', `### ${id}`, '', table.trimEnd());
  }
  if (notes.lines.length) out.push('', ...notes.lines.map((n, i) => `${i + 1}. ${n}`));
  return `${out.join('\n')}\n`;
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function machine() {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemMb: Math.round(totalmem() / 2 ** 20),
    loadavg: loadavg().map((l) => round(l, 2)),
    /** 1: children in their own session (detached) get their own CPU share under load. */
    schedAutogroup: readProc('/proc/sys/kernel/sched_autogroup_enabled'),
  };
}

/** Writes bench/results/<ISO timestamp>.json and latest.json; returns the timestamped path. */
export function writeResults(dir: string, date: Date, data: unknown): string {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(data, null, 1)}\n`;
  const file = join(dir, `${date.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  return file;
}
