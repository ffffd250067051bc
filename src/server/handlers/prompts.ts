import { GetPromptRequestSchema, ListPromptsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { runWithFailover } from '../../router/failover.js';
import { downstreamParams, forward } from '../../router/forward.js';
import { TransportFailureError, UnknownNameError, toMcpError } from '../../shared/errors.js';
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
      let route = ctx.state.current.resolvePrompt(request.params.name);
      if (!route) {
        await ctx.state.settled(30_000);
        route = ctx.state.current.resolvePrompt(request.params.name);
      }
      if (!route) throw new UnknownNameError('prompt', request.params.name);
      const params = downstreamParams({ ...request.params, name: route.originalName });
      const relay = progressRelay(extra as HandlerExtra, request.params);
      const outcome = await runWithFailover(
        route.members,
        (id) => {
          const d = ctx.downstream(id);
          if (!d) throw new TransportFailureError(id, 'unavailable', `${id}: not running`);
          return forward(d, { method: 'prompts/get', params }, relay);
        },
        { isAvailable: (id) => ctx.downstream(id)?.status === 'connected' },
      );
      return outcome.result as never;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}
