import type { GetPromptResult } from '@modelcontextprotocol/server';
import { tagAsker } from '../bridge.js';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { bridged } from '../bridge.js';
import type { UpstreamContext } from '../context.js';

export function registerPromptHandlers(up: UpstreamContext): void {
  const { server } = up.session;
  server.setRequestHandler('prompts/list', async (request) => {
    await up.state.beforeList();
    try {
      const { page, nextCursor } = up.state.current.listPrompts(request.params?.cursor);
      return {
        prompts: page,
        ...(nextCursor && { nextCursor }),
        ...(up.session.era === 'modern' && up.state.cacheHint('prompts')),
      };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler('prompts/get', async (request, ctx) => {
    try {
      const route = await up.state.find((c) => c.resolvePrompt(request.params.name), request.params.name);
      if (!route) throw new UnknownNameError('prompt', request.params.name);
      const params = (extra: Record<string, unknown> = {}) =>
        downstreamParams({ ...request.params, name: route.originalName, ...extra });
      return (await bridged(
        up,
        ctx,
        request.params,
        async (forward) => {
          const outcome = await up.router.requestAny(
            route.members,
            { method: 'prompts/get', params: params() },
            forward,
          );
          return tagAsker(outcome.result, outcome.target);
        },
        (forward, retry) =>
          up.router.request(
            retry.serverId,
            {
              method: 'prompts/get',
              params: params({
                inputResponses: retry.inputResponses,
                ...(retry.requestState !== undefined && { requestState: retry.requestState }),
              }),
            },
            forward,
          ),
      )) as GetPromptResult;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}
