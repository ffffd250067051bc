/** Order statistics over plain number arrays. Nothing here allocates per sample beyond one sort. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (q in 0..1) of an already sorted array. */
export function percentileOfSorted(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const rank = Math.ceil(q * values.length) - 1;
  return values[Math.min(values.length - 1, Math.max(0, rank))]!;
}

export function percentile(values: readonly number[], q: number): number {
  return percentileOfSorted(sorted(values), q);
}

/** Median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median and range, ignoring non-finite entries; undefined when nothing is left. */
export function spread(values: readonly number[]): Spread | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const r = (v: number) => round(v, 4);
  return {
    median: r(median(finite)),
    min: r(Math.min(...finite)),
    max: r(Math.max(...finite)),
    n: finite.length,
  };
}

/** Rounds to `digits` decimals, for compact JSON. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
