/**
 * Counter and histogram families whose series are plain numbers: the hot path adds to a field of
 * an object it already holds (no label hashing, no allocation), and prom-client's registry reads
 * them only at scrape time through `get()`. prom-client's own `labels(...).inc()` builds a label
 * hash string on every increment; these do that once, when a series is first seen.
 */
import type { Metric } from 'prom-client';

export type Labels = Record<string, string>;

interface SampleValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's Registry reads from a metric's `get()`. */
interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: SampleValue[];
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  observe(value: number): void;
}

/** A family registered as is: `registry.registerMetric(family.metric)`. */
abstract class Family<S> {
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, { labels: Labels; data: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series of these labels (made once; later calls return the same one). */
  of(labels: Labels): S {
    const key = Object.values(labels).join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, data: this.create() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  /** prom-client's Registry only calls `get()` (and reads name, help, type); the cast says so. */
  get metric(): Metric {
    return this as unknown as Metric;
  }

  protected abstract create(): S;
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter' as const;

  protected create(): CounterSeries {
    return { value: 0 };
  }

  get(): MetricSnapshot {
    const values = [...this.series.values()].map(({ labels, data }) => ({ labels, value: data.value }));
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}

class BucketCounts implements HistogramSeries {
  /** Per bucket, not cumulative (made cumulative at scrape); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
  ) {
    super(name, help);
  }

  protected create(): HistogramSeries {
    return new BucketCounts(this.bounds);
  }

  get(): MetricSnapshot {
    const values: SampleValue[] = [];
    for (const { labels, data } of this.series.values()) {
      const series = data as BucketCounts;
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: series.count });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}
