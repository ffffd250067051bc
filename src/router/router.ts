/**
 * The routed call: exposed name → members → plan → failover → result with routing metadata.
 * Also the parallel aggregate. Used by tools/call, coordinator__route, coordinator__aggregate
 * and the CLI alike, so every path routes the same way.
 */
import type { CallToolResult, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/types.js';
import type { Downstream } from '../downstream/types.js';
import {
  InvalidArgumentError,
  TransportFailureError,
  UnknownNameError,
  bareMessage,
} from '../shared/errors.js';
import { runWithFailover, type Attempt } from './failover.js';
import { META_ROUTING, downstreamParams, forward, type ForwardContext } from './forward.js';
import { resolveRoute, type RoutingPolicy } from './resolve.js';

export interface RouterDeps {
  catalog(): Catalog;
  downstream(id: string): Downstream | undefined;
  policy(): RoutingPolicy;
  /** False when a server is known down (breaker open, crash-loop): failover skips it at once. */
  isAvailable(id: string): boolean;
  /** Resolves when no eager server is still starting (or the time is up): names may still appear. */
  settled(timeoutMs: number): Promise<void>;
}

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

const NAME_WAIT_MS = 30_000;

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  /** Route one tools/call; the result carries `_meta["coordinator/routing"]`. */
  async callTool(call: RoutedCall): Promise<CallToolResult> {
    const route = await this.resolveName(call.name);
    const plan = resolveRoute(
      { name: call.name, members: route.members, target: call.target, context: call.context },
      this.deps.policy(),
    );
    const params = downstreamParams({ ...call.params, name: route.originalName, arguments: call.arguments });
    const outcome = await runWithFailover(
      plan.candidates,
      (target) => this.send(target, { method: 'tools/call', params }, call.forward),
      { isAvailable: (id) => this.deps.isAvailable(id) },
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
          results[id] = (await this.send(id, { method: 'tools/call', params })) as CallToolResult;
        } catch (error) {
          errors[id] = bareMessage(error);
        }
      }),
    );
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    return { results, errors, aggregation: { targets: chosen, mode: 'parallel', durationMs } };
  }

  /** server id → original tool name, for an exposed name or an original name. */
  private async owners(tool: string): Promise<Map<string, string>> {
    const find = () => {
      const owners = new Map<string, string>();
      const catalog = this.deps.catalog();
      const exposed = catalog.resolveTool(tool);
      if (exposed) for (const m of exposed.members) owners.set(m, exposed.originalName);
      for (const match of catalog.toolsByOriginalName(tool)) {
        for (const m of match.members) if (!owners.has(m)) owners.set(m, match.originalName);
      }
      owners.delete('coordinator');
      return owners;
    };
    const found = find();
    if (found.size > 0) return found;
    await this.deps.settled(NAME_WAIT_MS);
    return find();
  }

  private async resolveName(name: string) {
    const route = this.deps.catalog().resolveTool(name);
    if (route) return route;
    // The server that has it may still be starting: wait for the catalog to settle, then look again.
    await this.deps.settled(NAME_WAIT_MS);
    const late = this.deps.catalog().resolveTool(name);
    if (!late) throw new UnknownNameError('tool', name);
    return late;
  }

  private async send(
    id: string,
    request: { method: string; params?: Record<string, unknown> },
    context?: ForwardContext,
  ): Promise<Result> {
    const downstream = this.deps.downstream(id);
    if (!downstream) throw new TransportFailureError(id, 'unavailable', `${id}: not running`);
    return forward(downstream, request, context);
  }
}
