import { GetPromptRequestSchema, ListPromptsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { progressRelay, type HandlerExtra, type UpstreamContext } from '../context.js';

export function registerPromptHandlers(ctx: UpstreamContext): void {
  ctx.server.setRequestHandler(ListPromptsRequestSchema, (request) => {
    try {
      const { page, nextCursor } = ctx.state.current.listPrompts(request.params?.cursor);
      return nextCursor ? { prompts: page, nextCursor } : { prompts: page };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  ctx.server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    try {
      const route = await ctx.state.find((c) => c.resolvePrompt(request.params.name));
      if (!route) throw new UnknownNameError('prompt', request.params.name);
      const params = downstreamParams({ ...request.params, name: route.originalName });
      const relay = progressRelay(extra as HandlerExtra, request.params);
      const outcome = await ctx.router.requestAny(route.members, { method: 'prompts/get', params }, relay);
      return outcome.result as never;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}
