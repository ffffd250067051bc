import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { RoutedCall } from '../../router/router.js';
import { META_CONTEXT, META_TARGET } from '../../router/forward.js';
import { InvalidArgumentError, toMcpError } from '../../shared/errors.js';
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
      const { page, nextCursor } = ctx.state.current.listTools(request.params?.cursor);
      return nextCursor ? { tools: page, nextCursor } : { tools: page };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  ctx.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    try {
      const { name, arguments: args, ...rest } = request.params;
      return await dispatchToolCall(ctx, {
        name,
        arguments: args,
        params: rest,
        ...routingHints(request.params._meta),
        forward: progressRelay(extra as HandlerExtra, request.params),
      });
    } catch (error) {
      throw toMcpError(error);
    }
  });
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
  return ctx.router.callTool(call);
}
