/**
 * The Prometheus families of CONTRACT.md, in a registry of their own (never prom-client's global
 * one: two Apps in one process, or a library user's own metrics, must not collide).
 *
 * Two kinds of figures:
 * - counted where they happen (calls, MCP operations, HTTP requests, events): the hot path only
 *   increments a cached child — label values are looked up in nested maps, nothing is hashed or
 *   allocated per call once a label combination has been seen, and nothing is awaited;
 * - computed at scrape time (`collect`): downstream up and restarts from the pool, locks held from
 *   the lock store, so nothing has to keep them in step.
 *
 * Every label is bounded: a tool label only names a tool the catalog knows (anything else is
 * `other`), an outcome is one of three, and each family takes at most `maxLabelValues` distinct
 * values per label — the rest are counted as `other`. A client cannot grow the registry by
 * inventing names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };
interface CallSeries {
  label: string;
  duration: Observe;
  tools: Map<string, Inc[]>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly callsTotal: Counter<'server' | 'tool' | 'outcome'>;
  private readonly callDuration: Histogram<'server'>;
  private readonly operationDuration: Histogram<'mcp_method_name'>;
  private readonly eventsTotal: Counter<'type'>;
  private readonly httpTotal: Counter<'route' | 'status'>;
  private readonly max: number;
  private readonly knownTool: (name: string) => boolean;
  private readonly caps: Record<'callServer' | 'callTool' | 'method' | 'eventType' | 'route', LabelCap>;
  /** server → its duration child and tool → [ok, tool_error, error]: no key building per call. */
  private readonly callSeries = new Map<string, CallSeries>();
  private readonly operationChildren = new Map<string, Observe>();
  private readonly eventChildren = new Map<string, Inc>();
  private readonly httpChildren = new Map<string, Map<number, Inc>>();

  constructor(options: MetricsOptions = {}) {
    this.max = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
    this.knownTool = options.knownTool ?? (() => true);
    const cap = () => new LabelCap(this.max);
    this.caps = { callServer: cap(), callTool: cap(), method: cap(), eventType: cap(), route: cap() };
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: options.defaultMetricsPrefix ?? '' });
    }
    this.callsTotal = new Counter({
      name: 'mcp_coordinator_tool_calls_total',
      help: 'Routed tool calls by server, tool (exposed name) and outcome (ok, tool_error, error).',
      labelNames: ['server', 'tool', 'outcome'],
      registers,
    });
    this.callDuration = new Histogram({
      name: 'mcp_coordinator_tool_call_duration_seconds',
      help: 'Duration of routed tool calls, by the server that answered.',
      labelNames: ['server'],
      buckets: CALL_BUCKETS,
      registers,
    });
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
    this.eventsTotal = new Counter({
      name: 'mcp_coordinator_events_total',
      help: 'Coordination events seen by this coordinator (published here or received), by type.',
      labelNames: ['type'],
      registers,
    });
    this.httpTotal = new Counter({
      name: 'mcp_coordinator_http_requests_total',
      help: 'HTTP requests by route template and status code.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.operationDuration = new Histogram({
      name: 'mcp_server_operation_duration_seconds',
      help: 'Duration of MCP requests served to clients (OpenTelemetry mcp.server.operation.duration).',
      labelNames: ['mcp_method_name'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
  }

  /** One routed tool call ended. `tool` is the exposed name; unknown names count as `other`. */
  observeCall(server: string, tool: string, outcome: CallOutcome, seconds: number): void {
    const entry = this.callsOf(server);
    const children = entry.tools.get(tool) ?? this.toolChildren(entry, tool);
    children[OUTCOME_INDEX[outcome]]!.inc();
    entry.duration.observe(seconds);
  }

  /** One MCP request served to a client (`tools/list`, `tools/call` …). */
  observeOperation(method: string, seconds: number): void {
    let child = this.operationChildren.get(method);
    if (!child) {
      child = this.operationDuration.labels(this.caps.method.value(method));
      if (this.operationChildren.size < this.max) this.operationChildren.set(method, child);
    }
    child.observe(seconds);
  }

  /** One coordination event seen. */
  countEvent(type: string): void {
    let child = this.eventChildren.get(type);
    if (!child) {
      child = this.eventsTotal.labels(this.caps.eventType.value(type));
      if (this.eventChildren.size < this.max) this.eventChildren.set(type, child);
    }
    child.inc();
  }

  /** One HTTP request answered. `route` is the route template (`/api/servers/{id}`), never the path. */
  countHttp(route: string, status: number): void {
    let byStatus = this.httpChildren.get(route);
    if (!byStatus) {
      byStatus = new Map();
      if (this.httpChildren.size < this.max) this.httpChildren.set(route, byStatus);
    }
    let child = byStatus.get(status);
    if (!child) {
      child = this.httpTotal.labels(this.caps.route.value(route), String(status));
      byStatus.set(status, child);
    }
    child.inc();
  }

  private callsOf(server: string): CallSeries {
    let entry = this.callSeries.get(server);
    if (entry) return entry;
    const label = this.caps.callServer.value(server);
    entry = this.callSeries.get(label) ?? {
      label,
      duration: this.callDuration.labels(label),
      tools: new Map<string, Inc[]>(),
    };
    // Keyed by label, so at most cap + 1 entries; a capped server is looked up again (rare).
    this.callSeries.set(label, entry);
    return entry;
  }

  private toolChildren(entry: CallSeries, tool: string): Inc[] {
    const label = this.knownTool(tool) ? this.caps.callTool.value(tool) : OTHER;
    const children =
      entry.tools.get(label) ?? OUTCOMES.map((o) => this.callsTotal.labels(entry.label, label, o));
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

  /** Stops nothing (default metrics collect on scrape); drops every series. For tests and close. */
  clear(): void {
    this.registry.clear();
  }
}
