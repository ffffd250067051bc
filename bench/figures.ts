/**
 * The figures of issue 2's "Speed and memory" table, their targets, and how much work the bench
 * does for each (full run vs --quick). Targets apply to the coordinator.
 */

export type FigureId =
  | 'echo_p50'
  | 'echo_p99'
  | 'throughput'
  | 'sleep32'
  | 'spawn'
  | 'list5000'
  | 'rss'
  | 'cpu_echo'
  | 'cpu_burst';

export interface Target {
  readonly op: '<=' | '>=';
  readonly value: number;
  /** Compared with the ratio × direct (true) or the absolute value (false). */
  readonly onRatio: boolean;
}

export interface Figure {
  readonly id: FigureId;
  readonly title: string;
  readonly unit: 'ms' | 'calls/s' | 'MB';
  /** Reported as a ratio to `direct` measured in the same round. */
  readonly ratio: boolean;
  /** Whether a direct client has this figure at all (a direct client has no merged list, no hop process). */
  readonly direct: boolean;
  readonly target?: Target;
}

export const FIGURES: readonly Figure[] = [
  {
    id: 'echo_p50',
    title: 'echo `tools/call` p50, × direct (stdio, 1 server)',
    unit: 'ms',
    ratio: true,
    direct: true,
    target: { op: '<=', value: 1.6, onRatio: true },
  },
  {
    id: 'echo_p99',
    title: 'echo `tools/call` p99, × direct',
    unit: 'ms',
    ratio: true,
    direct: true,
    target: { op: '<=', value: 1.4, onRatio: true },
  },
  {
    id: 'throughput',
    title: 'throughput, 32 calls in flight, × direct',
    unit: 'calls/s',
    ratio: true,
    direct: true,
    target: { op: '>=', value: 0.75, onRatio: true },
  },
  {
    id: 'sleep32',
    title: '32 concurrent 50 ms calls, wall',
    unit: 'ms',
    ratio: false,
    direct: true,
    target: { op: '<=', value: 58, onRatio: false },
  },
  {
    id: 'spawn',
    title: 'spawn → first full `tools/list`, 10 stdio servers × 50 tools, × direct',
    unit: 'ms',
    ratio: true,
    direct: true,
    target: { op: '<=', value: 1.05, onRatio: true },
  },
  {
    id: 'list5000',
    title: '`tools/list` of 5,000 tools (10 × 500), p50',
    unit: 'ms',
    ratio: false,
    direct: false,
    target: { op: '<=', value: 10, onRatio: false },
  },
  {
    id: 'rss',
    title: 'peak RSS of the aggregator process, 10 servers × 50 tools',
    unit: 'MB',
    ratio: false,
    direct: false,
    target: { op: '<=', value: 100, onRatio: false },
  },
  // Not in the issue's table: where the time of a hop goes. CPU of the process between the
  // client and the fixture (all its threads, from /proc/<pid>/task/*/schedstat), per call.
  {
    id: 'cpu_echo',
    title: 'CPU of the hop process per echo call, one at a time (all threads)',
    unit: 'ms',
    ratio: false,
    direct: false,
  },
  {
    id: 'cpu_burst',
    title: 'CPU of the hop process per echo call, 32 in flight (all threads)',
    unit: 'ms',
    ratio: false,
    direct: false,
  },
];

export function targetText(t: Target, unit: string): string {
  return `${t.op === '<=' ? '≤' : '≥'} ${t.value}${t.onRatio ? '×' : ` ${unit}`}`;
}

export function meets(t: Target, value: number): boolean {
  return t.op === '<=' ? value <= t.value : value >= t.value;
}

/** Work per round. Every loop is bounded by a count and a time. */
export interface Plan {
  readonly rounds: number;
  /** Wall budget of the proxy section; no new round starts when it would overrun. */
  readonly budgetMs: number;
  readonly warmupCalls: number;
  readonly echoCalls: number;
  readonly echoMaxMs: number;
  /** Contestants take turns every `sliceCalls` echo calls / `sliceMs` of load, so noise hits all alike. */
  readonly sliceCalls: number;
  readonly sliceMs: number;
  readonly inFlight: number;
  readonly throughputMs: number;
  readonly throughputMaxCalls: number;
  readonly sleepCalls: number;
  readonly sleepMs: number;
  readonly sleepReps: number;
  /** 10 servers × (8 fixture tools + 42 synthetic) = 50 tools each. */
  readonly spawnServers: number;
  readonly spawnSynthetic: number;
  readonly spawnTimeoutMs: number;
  /** Load on the aggregator before its peak RSS is read. */
  readonly rssBurstMs: number;
  /** 10 servers × (8 + 492) = 5,000 tools. */
  readonly bigServers: number;
  readonly bigSynthetic: number;
  readonly bigLists: number;
  readonly bigListMaxMs: number;
}

export const FULL_PLAN: Plan = {
  rounds: 5,
  budgetMs: 270_000,
  warmupCalls: 300,
  echoCalls: 1_500,
  echoMaxMs: 2_000,
  sliceCalls: 50,
  sliceMs: 250,
  inFlight: 32,
  throughputMs: 1_000,
  throughputMaxCalls: 60_000,
  sleepCalls: 32,
  sleepMs: 50,
  sleepReps: 4,
  spawnServers: 10,
  spawnSynthetic: 42,
  spawnTimeoutMs: 60_000,
  rssBurstMs: 500,
  bigServers: 10,
  bigSynthetic: 492,
  bigLists: 20,
  bigListMaxMs: 2_000,
};

export const QUICK_PLAN: Plan = {
  ...FULL_PLAN,
  rounds: 2,
  budgetMs: 100_000,
  warmupCalls: 100,
  echoCalls: 400,
  echoMaxMs: 800,
  throughputMs: 400,
  sleepReps: 2,
  rssBurstMs: 200,
  bigLists: 8,
  bigListMaxMs: 1_000,
};
