import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ListToolsRequestSchema,
  type CallToolResult,
  type ListToolsResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { RoutedCall } from '../../router/router.js';
import { META_CONTEXT, META_TARGET } from '../../router/forward.js';
import type { ListPage } from '../../catalog/types.js';
import { InvalidArgumentError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { withRawJson } from '../../shared/json-lines.js';
import { progressRelay, type HandlerExtra, type UpstreamContext } from '../context.js';

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

export function registerToolHandlers(ctx: UpstreamContext): void {
  ctx.server.setRequestHandler(ListToolsRequestSchema, (request) => {
    try {
      return listResult(ctx.state.current.listTools(request.params?.cursor));
    } catch (error) {
      throw toMcpError(error);
    }
  });

  // Registered on Protocol directly: the Server's own tools/call wrapper parses the whole request
  // and then the whole result again with zod on every call, though the downstream's SDK already
  // validated that result. We check the envelope here, once, and pass the result through.
  Protocol.prototype.setRequestHandler.call(
    ctx.server,
    ToolsCallEnvelope,
    async (request: { params: unknown }, extra: unknown) => {
      try {
        const { name, arguments: args, ...rest } = callParams(request.params);
        return await dispatchToolCall(ctx, {
          name,
          arguments: args,
          params: rest,
          ...routingHints(rest._meta as Record<string, unknown> | undefined),
          forward: progressRelay(extra as HandlerExtra, rest),
        });
      } catch (error) {
        throw toMcpError(error);
      }
    },
  );
}

/**
 * One result object per catalog page (pages are cached per catalog by `paginate`), serialized
 * once: a 5,000-tool catalog is ~1.4 MB of JSON, and clients list again on every list_changed.
 */
const listResults = new WeakMap<ListPage<Tool>, ListToolsResult>();

function listResult(page: ListPage<Tool>): ListToolsResult {
  let result = listResults.get(page);
  if (!result) {
    const { page: tools, nextCursor } = page;
    result = withRawJson(nextCursor ? { tools, nextCursor } : { tools });
    listResults.set(page, result);
  }
  return result;
}

const ToolsCallEnvelope = z.object({ method: z.literal('tools/call'), params: z.unknown() });

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
  ctx: Pick<UpstreamContext, 'state' | 'builtins' | 'router'>,
  call: RoutedCall,
): Promise<CallToolResult> {
  const route = ctx.state.current.resolveTool(call.name);
  if (route?.builtin) {
    const tool = ctx.builtins.get(route.originalName);
    if (tool) return tool.handler(call.arguments ?? {}, { signal: call.forward?.signal });
  }
  // Resolved once here; the router looks again only for a name that is not known yet.
  return ctx.router.callTool(call, route);
}
