/**
 * The routed call: exposed name → members → plan → failover → result with routing metadata.
 * Also the parallel aggregate. Used by tools/call, coordinator__route, coordinator__aggregate
 * and the CLI alike, so every path routes the same way.
 */
import { parseTraceparent, type Tracer } from '../observability/tracing.js';
import type { CallToolResult, Result } from '@modelcontextprotocol/server';
import type { Catalog, NameRoute } from '../catalog/types.js';
import type { Downstream } from '../downstream/types.js';
import {
  InvalidArgumentError,
  TransportFailureError,
  UnknownNameError,
  bareMessage,
} from '../shared/errors.js';
import { runWithFailover, type Attempt } from './failover.js';
import {
  META_ROUTING,
  downstreamParams,
  forward,
  type ForwardContext,
  type OutgoingRequest,
} from './forward.js';
import { resolveRoute, type RoutingPolicy } from './resolve.js';
import type { ResultCache } from './result-cache.js';

export interface RouterDeps {
  /**
   * Look a name up in the catalog; when it is not there yet and a server is still starting,
   * look again once the catalog has settled (bounded). With `name`, only the servers that could
   * expose it are waited for.
   */
  find<T>(lookup: (catalog: Catalog) => T | undefined, name?: string): Promise<T | undefined>;
  /** The closest exposed tool name to an unknown one, for "did you mean". */
  suggest?(name: string): string | undefined;
  downstream(id: string): Downstream | undefined;
  policy(): RoutingPolicy;
  /** False when a server is known down (breaker open, crash-loop): failover skips it at once. */
  isAvailable(id: string): boolean;
  /** Opt-in per-server cache of idempotent tools' results (`cache: { ttlMs, tools }`). */
  resultCache?: ResultCache;
  /**
   * Told once per routed call as it ends (the metrics): the server that answered (or the last one
   * tried; `none` when no server was), the exposed name, the outcome and the duration. Called
   * synchronously; it must only count.
   */
  onCallEnd?(server: string, tool: string, outcome: CallOutcome, seconds: number): void;
  /** Set when an OTLP endpoint is configured: each routed call is a span. */
  tracer?: Tracer;
}

/** `ok`: a result; `tool_error`: a result with `isError`; `error`: no result (thrown). */
export type CallOutcome = 'ok' | 'tool_error' | 'error';

export interface RoutedCall {
  name: string;
  arguments?: Record<string, unknown>;
  /** Everything else of the upstream params (e.g. `_meta`), forwarded minus routing hints. */
  params?: Record<string, unknown>;
  target?: string;
  context?: Record<string, unknown>;
  forward?: ForwardContext;
}

export interface Routing {
  target: string;
  reason: string;
  attempts: Attempt[];
}

export interface AggregateResult {
  results: Record<string, CallToolResult>;
  errors: Record<string, string>;
  aggregation: { targets: string[]; mode: 'parallel'; durationMs: number };
}

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  /** Route one tools/call; the result carries `_meta["coordinator/routing"]`. */
  async callTool(call: RoutedCall, resolved?: NameRoute): Promise<CallToolResult> {
    const report = this.deps.onCallEnd;
    const tracer = this.deps.tracer;
    if (!report && !tracer) return this.route(call, resolved, {});
    const started = performance.now();
    const tried: { target?: string } = {};
    // The caller's trace continues here; the downstream call is this span's child.
    const meta = call.params?._meta as Record<string, unknown> | undefined;
    const span = tracer?.startSpan(`tools/call ${call.name}`, parseTraceparent(meta?.traceparent));
    const traced = span
      ? { ...call, params: { ...call.params, _meta: { ...meta, traceparent: span.traceparent } } }
      : call;
    span?.setAttribute('mcp.method.name', 'tools/call');
    span?.setAttribute('gen_ai.tool.name', call.name);
    try {
      const result = await this.route(traced, resolved, tried);
      const seconds = (performance.now() - started) / 1000;
      report?.(tried.target ?? 'none', call.name, result.isError ? 'tool_error' : 'ok', seconds);
      if (span) {
        span.setAttribute('mcp.coordinator.target', tried.target ?? 'none');
        span.end(result.isError ? 'tool_error' : undefined);
      }
      return result;
    } catch (error) {
      report?.(tried.target ?? 'none', call.name, 'error', (performance.now() - started) / 1000);
      if (span) {
        span.setAttribute('mcp.coordinator.target', tried.target ?? 'none');
        span.setAttribute('error.type', error instanceof Error ? error.name : 'error');
        span.end(error instanceof Error ? error.message : String(error));
      }
      throw error;
    }
  }

  /** The routed call proper; `tried.target` is the last server it tried. */
  private async route(
    call: RoutedCall,
    resolved: NameRoute | undefined,
    tried: { target?: string },
  ): Promise<CallToolResult> {
    const route = resolved ?? (await this.deps.find((c) => c.resolveTool(call.name), call.name));
    if (!route) throw new UnknownNameError('tool', call.name, this.deps.suggest?.(call.name));
    const plan = resolveRoute(
      { name: call.name, members: route.members, target: call.target, context: call.context },
      this.deps.policy(),
    );
    const params = downstreamParams({ ...call.params, name: route.originalName, arguments: call.arguments });
    const request = { method: 'tools/call', params };
    const cache = this.deps.resultCache;
    const outcome = await runWithFailover(
      plan.candidates,
      async (id) => {
        tried.target = id;
        const hit = cache?.get(id, route.originalName, call.arguments);
        if (hit) return hit;
        const result = (await this.request(id, request, call.forward)) as CallToolResult;
        cache?.set(id, route.originalName, call.arguments, result);
        return result;
      },
      {
        isAvailable: (id) => this.deps.isAvailable(id),
        mayRepeat: (id) => this.mayRepeat(id, route.originalName),
      },
    );
    const routing: Routing = { target: outcome.target, reason: plan.reason, attempts: outcome.attempts };
    const result = outcome.result as CallToolResult;
    return { ...result, _meta: { ...result._meta, [META_ROUTING]: routing } };
  }

  /** The same call on every server that has the tool (or the listed ones), in parallel. */
  async aggregate(
    tool: string,
    args: Record<string, unknown> | undefined,
    targets?: string[],
  ): Promise<AggregateResult> {
    const started = performance.now();
    const owners = await this.owners(tool);
    if (owners.size === 0) throw new UnknownNameError('tool', tool);
    let chosen = [...owners.keys()];
    if (targets && targets.length > 0) {
      const unknown = targets.filter((t) => !owners.has(t));
      if (unknown.length > 0) {
        throw new InvalidArgumentError(
          `Targets without tool ${tool}: ${unknown.join(', ')}; it is offered by: ${chosen.join(', ')}`,
        );
      }
      chosen = targets;
    }
    const results: Record<string, CallToolResult> = {};
    const errors: Record<string, string> = {};
    await Promise.all(
      chosen.map(async (id) => {
        try {
          const params = { name: owners.get(id)!, arguments: args ?? {} };
          results[id] = (await this.request(id, { method: 'tools/call', params })) as CallToolResult;
        } catch (error) {
          errors[id] = bareMessage(error);
        }
      }),
    );
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    return { results, errors, aggregation: { targets: chosen, mode: 'parallel', durationMs } };
  }

  /** One request to one server: the only way a handler reaches a downstream. */
  request(id: string, request: OutgoingRequest, context?: ForwardContext): Promise<Result> {
    const downstream = this.deps.downstream(id);
    if (!downstream) {
      return Promise.reject(new TransportFailureError(id, 'unavailable', `${id}: not running`));
    }
    return forward(downstream, request, context);
  }

  /** The same request to the first of `candidates` that answers, under the failover rule. */
  requestAny(candidates: readonly string[], request: OutgoingRequest, context?: ForwardContext) {
    return runWithFailover(candidates, (id) => this.request(id, request, context), {
      isAvailable: (id) => this.deps.isAvailable(id),
    });
  }

  /** Read-only or idempotent by its annotations, or declared cacheable: safe to run twice. */
  private mayRepeat(serverId: string, toolName: string): boolean {
    const downstream = this.deps.downstream(serverId);
    if (downstream?.config.cache?.tools.includes(toolName)) return true;
    const tool = downstream?.snapshot?.tools.find((t) => t.name === toolName);
    return Boolean(tool?.annotations?.readOnlyHint || tool?.annotations?.idempotentHint);
  }

  /** server id → original tool name, for an exposed name or an original name (built-ins excluded). */
  private async owners(tool: string): Promise<Map<string, string>> {
    const owners = await this.deps.find((catalog) => {
      const found = new Map<string, string>();
      const exposed = catalog.resolveTool(tool);
      if (exposed && !exposed.builtin) for (const m of exposed.members) found.set(m, exposed.originalName);
      for (const match of catalog.toolsByOriginalName(tool)) {
        if (match.builtin) continue;
        for (const m of match.members) if (!found.has(m)) found.set(m, match.originalName);
      }
      return found.size > 0 ? found : undefined;
    });
    return owners ?? new Map();
  }
}
