import type { CallToolResult, ListToolsResult, Tool } from '@modelcontextprotocol/server';
import type { RoutedCall } from '../../router/router.js';
import { META_CONTEXT, META_ROUTING, META_TARGET, downstreamParams } from '../../router/forward.js';
import type { ListPage } from '../../catalog/types.js';
import { InvalidArgumentError, UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { withRawJson } from '../../shared/json-lines.js';
import { accessRefusal } from '../../coordination/access.js';
import { bridged } from '../bridge.js';
import { envelopeOf, type UpstreamContext } from '../context.js';

/** `_meta["coordinator/target"]` and `_meta["coordinator/context"]`, validated. */
export function routingHints(meta: Record<string, unknown> | undefined): {
  target?: string;
  context?: Record<string, unknown>;
} {
  const target = meta?.[META_TARGET];
  const context = meta?.[META_CONTEXT];
  if (target !== undefined && typeof target !== 'string') {
    throw new InvalidArgumentError(`_meta["${META_TARGET}"] must be a server id (string)`);
  }
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) {
    throw new InvalidArgumentError(`_meta["${META_CONTEXT}"] must be an object`);
  }
  return { target, context: context as Record<string, unknown> | undefined };
}

export function registerToolHandlers(up: UpstreamContext): void {
  const { server } = up.session;
  server.setRequestHandler('tools/list', async (request, ctx) => {
    await up.state.beforeList();
    try {
      if (up.session.era === 'modern') {
        up.session.noteEnvelope(envelopeOf(ctx).capabilities, ctx.mcpReq.envelope as Record<string, unknown>);
      }
      return listResult(up.state.current.listTools(request.params?.cursor), up);
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler('tools/call', async (request, ctx) => {
    try {
      const { name, arguments: args, ...rest } = callParams(request.params);
      const hints = routingHints(rest._meta as Record<string, unknown> | undefined);
      return (await bridged(
        up,
        ctx,
        rest as { _meta?: Record<string, unknown> },
        (forward) =>
          dispatchToolCall(
            up,
            { name, arguments: args, params: rest, ...hints, forward },
            {
              agentId: up.session.agentId,
              ...(up.session.owner !== undefined && { owner: up.session.owner }),
            },
          ),
        async (forward, retry) => {
          const route = up.state.current.resolveTool(name);
          if (!route || route.builtin) throw new UnknownNameError('tool', name);
          const params = downstreamParams({
            ...rest,
            name: route.originalName,
            arguments: args,
            inputResponses: retry.inputResponses,
            ...(retry.requestState !== undefined && { requestState: retry.requestState }),
          });
          const result = await up.router.request(retry.serverId, { method: 'tools/call', params }, forward);
          const routing = { target: retry.serverId, reason: 'input_required retry', attempts: [] };
          return { ...result, _meta: { ...result._meta, [META_ROUTING]: routing } };
        },
      )) as CallToolResult;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}

/**
 * One result object per catalog page (pages are cached per catalog by `paginate`), serialized
 * once: a 5,000-tool catalog is ~1.4 MB of JSON, and clients list again on every list_changed.
 */
const listResults = new WeakMap<ListPage<Tool>, ListToolsResult>();

function listResult(page: ListPage<Tool>, up: UpstreamContext): ListToolsResult {
  // Modern clients get the cache fields (their own object: the legacy one is shared).
  if (up.session.era === 'modern') {
    const { page: tools, nextCursor } = page;
    return { tools, ...(nextCursor && { nextCursor }), ...up.state.cacheHint('tools') };
  }
  let result = listResults.get(page);
  if (!result) {
    const { page: tools, nextCursor } = page;
    result = withRawJson(nextCursor ? { tools, nextCursor } : { tools });
    listResults.set(page, result);
  }
  return result;
}

/** `params` of tools/call: a string name and, when present, an object of arguments. */
function callParams(
  params: unknown,
): { name: string; arguments?: Record<string, unknown> } & Record<string, unknown> {
  if (typeof params !== 'object' || params === null)
    throw new InvalidArgumentError('tools/call needs params');
  const p = params as Record<string, unknown>;
  if (typeof p.name !== 'string' || p.name.length === 0)
    throw new InvalidArgumentError('tools/call: name must be a string');
  const args = p.arguments;
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw new InvalidArgumentError('tools/call: arguments must be an object');
  }
  return p as { name: string; arguments?: Record<string, unknown> };
}

/** A built-in tool runs here; every other name goes through the router. */
export async function dispatchToolCall(
  ctx: Pick<UpstreamContext, 'state' | 'builtins' | 'router' | 'access'>,
  call: RoutedCall,
  caller: { agentId?: string; owner?: string } = {},
): Promise<CallToolResult> {
  const route = ctx.state.current.resolveTool(call.name);
  // coordination.access: the tool called, and the one route/aggregate would call for it.
  if (ctx.access?.active && caller.agentId !== undefined) {
    const inner =
      route?.builtin && ROUTING_BUILTINS.has(route.originalName) ? call.arguments?.tool : undefined;
    const names = [call.name];
    if (typeof inner === 'string') {
      // aggregate takes a name as the servers know it too: every exposed tool it may reach.
      const reached = ctx.state.current.toolsByOriginalName(inner).map((m) => m.exposedName);
      names.push(inner, ...reached);
    }
    const denial = ctx.access.enforce(caller.agentId, 'tool', names);
    if (denial) return accessRefusal(denial);
  }
  if (route?.builtin) {
    const tool = ctx.builtins.get(route.originalName);
    if (tool) return tool.handler(call.arguments ?? {}, { signal: call.forward?.signal, ...caller });
  }
  // Resolved once here; the router looks again only for a name that is not known yet.
  return ctx.router.callTool(call, route);
}

/** Built-ins that call another tool named in their `tool` argument. */
const ROUTING_BUILTINS = new Set(['route', 'aggregate']);
