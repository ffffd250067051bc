/**
 * Helpers for sections that measure in rounds: a row from per-round values (median, min–max,
 * target, pass), an n/a row, and a round budget that starts no round it would not finish.
 */
import { performance } from 'node:perf_hooks';
import { median, round, spread } from './stats.js';
import type { BenchRow } from './types.js';

export interface RowTarget {
  op: '<=' | '>=';
  value: number;
  /** Shown instead of the generated "≤ value unit". */
  text?: string;
}

/** The median over rounds as `value`, with min–max and the target's verdict on the median. */
export function roundsRow(
  name: string,
  perRound: readonly number[],
  unit: string,
  target?: RowTarget,
  note?: string,
): BenchRow {
  const s = spread(perRound);
  if (!s) return naRow(name, unit, target, note ?? 'no round completed');
  const row: BenchRow = {
    name,
    value: round(s.median, 3),
    unit,
    min: round(s.min, 3),
    max: round(s.max, 3),
    rounds: s.n,
    raw: perRound.map((v) => round(v, 3)),
  };
  if (target) {
    row.target = targetText(target, unit);
    row.pass = target.op === '<=' ? s.median <= target.value : s.median >= target.value;
  }
  if (note) row.note = note;
  return row;
}

/** A row that could not be measured: value null, the reason as its note. */
export function naRow(name: string, unit: string, target: RowTarget | undefined, why: string): BenchRow {
  return { name, value: null, unit, ...(target && { target: targetText(target, unit) }), note: why };
}

export function targetText(t: RowTarget, unit: string): string {
  return t.text ?? `${t.op === '<=' ? '≤' : '≥'} ${t.value}${unit === '×' ? '×' : ` ${unit}`}`;
}

/**
 * Rounds within a wall-clock share: the first round always runs; a later one only when the
 * median round so far still fits before `deadline` (performance.now() time), and never more
 * than `maxRounds`.
 */
export class RoundBudget {
  private readonly durations: number[] = [];
  private startedAt = 0;

  constructor(
    private readonly deadline: number,
    private readonly maxRounds: number,
  ) {}

  /** True when another round may start (and marks its start). */
  next(): boolean {
    const done = this.durations.length;
    if (done >= this.maxRounds) return false;
    const now = performance.now();
    if (done > 0 && now + median(this.durations) > this.deadline) return false;
    this.startedAt = now;
    return true;
  }

  /** Marks the end of the round begun by `next()`. */
  end(): void {
    this.durations.push(performance.now() - this.startedAt);
  }

  get completed(): number {
    return this.durations.length;
  }
}

/** One-line message of anything thrown. */
export function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
}
