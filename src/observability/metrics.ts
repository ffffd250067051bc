/**
 * The Prometheus families of CONTRACT.md, in a registry of their own (never prom-client's global
 * one: two Apps in one process, or a library user's own metrics, must not collide).
 *
 * Two kinds of figures:
 * - counted where they happen (calls, MCP operations, HTTP requests, events): the hot path adds
 *   to a number in a series object found through nested maps (`families.ts`) — nothing is hashed
 *   or allocated per call once a label combination has been seen, and nothing is awaited;
 *   prom-client reads the numbers at scrape time;
 * - computed at scrape time (`collect`): downstream up and restarts from the pool, locks held from
 *   the lock store, so nothing has to keep them in step.
 *
 * Every label is bounded: a tool label only names a tool the catalog knows (anything else is
 * `other`), an outcome is one of three, and each family takes at most `maxLabelValues` distinct
 * values per label — the rest are counted as `other`. A client cannot grow the registry by
 * inventing names.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CounterFamily, HistogramFamily, type CounterSeries, type HistogramSeries } from './families.js';

export type CallOutcome = 'ok' | 'tool_error' | 'error';

const OUTCOMES: readonly CallOutcome[] = ['ok', 'tool_error', 'error'];
const OUTCOME_INDEX: Record<CallOutcome, number> = { ok: 0, tool_error: 1, error: 2 };

/** The label value that stands for everything beyond a cap, or a name nobody knows. */
export const OTHER = 'other';

export const DEFAULT_MAX_LABEL_VALUES = 200;

/** Seconds; from a cached list answer (~1 ms) to a slow tool (a minute). */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The OpenTelemetry MCP conventions' recommended boundaries for mcp.server.operation.duration. */
const OPERATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What the metrics read from the pool at scrape time (structural: no import of downstream/). */
export interface MetricsPoolView {
  all(): ReadonlyArray<{ readonly id: string; readonly status: string; readonly restarts: number }>;
}

/** What the metrics read from the lock store at scrape time. */
export interface MetricsLocksView {
  list(): Promise<readonly unknown[]>;
}

export interface MetricsOptions {
  pool?: MetricsPoolView;
  locks?: MetricsLocksView;
  /** Whether a tool name is in the catalog; others are counted as `other`. Default: all known. */
  knownTool?: (name: string) => boolean;
  /** Distinct values per label of one family before the rest become `other`. */
  maxLabelValues?: number;
  /** Collect the process default metrics (cpu, memory, event loop …) into this registry. Default true. */
  defaultMetrics?: boolean;
  /** Prefix of the default metrics' names (default none: `process_cpu_seconds_total` …). */
  defaultMetricsPrefix?: string;
}

/** At most `max` distinct values; the rest map to `other`. One per label of a family. */
class LabelCap {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(raw: string): string {
    if (this.seen.has(raw)) return raw;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(raw);
    return raw;
  }
}

interface CallSeries {
  label: string;
  duration: HistogramSeries;
  /** Tool (label) → its [ok, tool_error, error] series. */
  tools: Map<string, CounterSeries[]>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly callsTotal = new CounterFamily(
    'mcp_coordinator_tool_calls_total',
    'Routed tool calls by server, tool (exposed name) and outcome (ok, tool_error, error).',
  );
  private readonly callDuration = new HistogramFamily(
    'mcp_coordinator_tool_call_duration_seconds',
    'Duration of routed tool calls, by the server that answered.',
    CALL_BUCKETS,
  );
  private readonly eventsTotal = new CounterFamily(
    'mcp_coordinator_events_total',
    'Coordination events seen by this coordinator (published here or received), by type.',
  );
  private readonly httpTotal = new CounterFamily(
    'mcp_coordinator_http_requests_total',
    'HTTP requests by route template and status code.',
  );
  private readonly operationDuration = new HistogramFamily(
    'mcp_server_operation_duration_seconds',
    'Duration of MCP requests served to clients (OpenTelemetry mcp.server.operation.duration).',
    OPERATION_BUCKETS,
  );
  private readonly max: number;
  private readonly knownTool: (name: string) => boolean;
  private readonly caps: Record<'callServer' | 'callTool' | 'method' | 'eventType' | 'route', LabelCap>;
  /** server → its duration child and tool → [ok, tool_error, error]: no key building per call. */
  private readonly callSeries = new Map<string, CallSeries>();
  private readonly operationSeries = new Map<string, HistogramSeries>();
  private readonly eventSeries = new Map<string, CounterSeries>();
  private readonly httpSeries = new Map<string, Map<number, CounterSeries>>();

  constructor(options: MetricsOptions = {}) {
    this.max = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
    this.knownTool = options.knownTool ?? (() => true);
    const cap = () => new LabelCap(this.max);
    this.caps = { callServer: cap(), callTool: cap(), method: cap(), eventType: cap(), route: cap() };
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: options.defaultMetricsPrefix ?? '' });
    }
    this.registry.registerMetric(this.callsTotal.metric);
    this.registry.registerMetric(this.callDuration.metric);
    const pool = options.pool;
    new Gauge({
      name: 'mcp_coordinator_downstream_up',
      help: '1 when the downstream server is connected, else 0.',
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        for (const d of pool?.all() ?? []) this.set({ server: d.id }, d.status === 'connected' ? 1 : 0);
      },
    });
    new Counter({
      name: 'mcp_coordinator_downstream_restarts_total',
      help: 'Restarts of each downstream server since it was added to the pool.',
      labelNames: ['server'],
      registers,
      collect() {
        // The pool keeps the count; the counter mirrors it at scrape time.
        this.reset();
        for (const d of pool?.all() ?? []) this.inc({ server: d.id }, d.restarts);
      },
    });
    const locks = options.locks;
    new Gauge({
      name: 'mcp_coordinator_locks_held',
      help: 'File locks currently held (all agents, all coordinators sharing the store).',
      registers,
      async collect() {
        if (!locks) return;
        try {
          this.set((await locks.list()).length);
        } catch {
          // The store is unreachable: keep the last value rather than fail the whole scrape.
        }
      },
    });
    this.registry.registerMetric(this.eventsTotal.metric);
    this.registry.registerMetric(this.httpTotal.metric);
    this.registry.registerMetric(this.operationDuration.metric);
  }

  /** One routed tool call ended. `tool` is the exposed name; unknown names count as `other`. */
  observeCall(server: string, tool: string, outcome: CallOutcome, seconds: number): void {
    const entry = this.callsOf(server);
    const children = entry.tools.get(tool) ?? this.toolChildren(entry, tool);
    children[OUTCOME_INDEX[outcome]]!.value += 1;
    entry.duration.observe(seconds);
  }

  /** One MCP request served to a client (`tools/list`, `tools/call` …). */
  observeOperation(method: string, seconds: number): void {
    let series = this.operationSeries.get(method);
    if (!series) {
      series = this.operationDuration.of({ mcp_method_name: this.caps.method.value(method) });
      // Raw keys beyond the cap are not kept: a capped method is looked up again (rare).
      if (this.operationSeries.size < this.max) this.operationSeries.set(method, series);
    }
    series.observe(seconds);
  }

  /** One coordination event seen. */
  countEvent(type: string): void {
    let series = this.eventSeries.get(type);
    if (!series) {
      series = this.eventsTotal.of({ type: this.caps.eventType.value(type) });
      if (this.eventSeries.size < this.max) this.eventSeries.set(type, series);
    }
    series.value += 1;
  }

  /** One HTTP request answered. `route` is the route template (`/api/servers/{id}`), never the path. */
  countHttp(route: string, status: number): void {
    let byStatus = this.httpSeries.get(route);
    if (!byStatus) {
      byStatus = new Map();
      if (this.httpSeries.size < this.max) this.httpSeries.set(route, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = this.httpTotal.of({ route: this.caps.route.value(route), status: String(status) });
      if (byStatus.size < this.max) byStatus.set(status, series);
    }
    series.value += 1;
  }

  private callsOf(server: string): CallSeries {
    let entry = this.callSeries.get(server);
    if (entry) return entry;
    const label = this.caps.callServer.value(server);
    entry = this.callSeries.get(label) ?? {
      label,
      duration: this.callDuration.of({ server: label }),
      tools: new Map<string, CounterSeries[]>(),
    };
    // Keyed by label, so at most cap + 1 entries; a capped server is looked up again (rare).
    this.callSeries.set(label, entry);
    return entry;
  }

  private toolChildren(entry: CallSeries, tool: string): CounterSeries[] {
    const label = this.knownTool(tool) ? this.caps.callTool.value(tool) : OTHER;
    const children =
      entry.tools.get(label) ??
      OUTCOMES.map((outcome) => this.callsTotal.of({ server: entry.label, tool: label, outcome }));
    // An unknown or capped name is not kept as a key: it is looked up again (rare) instead.
    entry.tools.set(label, children);
    return children;
  }

  /** The Prometheus text exposition of every family (and the process metrics). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
