/** completion/complete, logging/setLevel and the roots notification going down. */
import {
  CompleteRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  type CompleteResult,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { progressRelay, type HandlerExtra, type UpstreamContext } from '../context.js';

const EMPTY_COMPLETION: CompleteResult = { completion: { values: [], hasMore: false } };

export function registerCompletionHandler(ctx: UpstreamContext): void {
  ctx.server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    try {
      const { ref } = request.params;
      let serverId: string;
      let mappedRef: typeof ref;
      if (ref.type === 'ref/prompt') {
        const route = await ctx.state.find((c) => c.resolvePrompt(ref.name));
        if (!route) throw new UnknownNameError('prompt', ref.name);
        serverId = route.members[0]!;
        mappedRef = { ...ref, name: route.originalName };
      } else {
        const route = await ctx.state.find((c) => c.resolveResource(ref.uri));
        if (!route) throw new UnknownNameError('resource', ref.uri);
        serverId = route.serverId;
        mappedRef = { ...ref, uri: route.originalUri };
      }
      // A server known to lack completions simply has no suggestions.
      const snapshot = ctx.downstream(serverId)?.snapshot;
      if (snapshot && !snapshot.capabilities.completions) return EMPTY_COMPLETION;
      const params = downstreamParams({ ...request.params, ref: mappedRef });
      const relay = progressRelay(extra as HandlerExtra, request.params);
      return (await ctx.router.request(serverId, { method: 'completion/complete', params }, relay)) as never;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}

/** The level the client asked for, applied to every downstream now and to each that connects later. */
export interface LogLevelState {
  level?: LoggingLevel;
}

export async function applyLogLevel(ctx: UpstreamContext, id: string, level: LoggingLevel): Promise<void> {
  const d = ctx.downstream(id);
  if (!d || d.status !== 'connected' || !d.snapshot?.capabilities.logging) return;
  try {
    const client = await d.whenReady(d.config.timeoutMs);
    await client.setLoggingLevel(level);
  } catch (error) {
    ctx.logger.debug(`could not set log level on ${id}`, { error });
  }
}

export function registerLoggingHandlers(ctx: UpstreamContext, state: LogLevelState): void {
  ctx.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    state.level = request.params.level;
    await Promise.all(ctx.connected().map((d) => applyLogLevel(ctx, d.id, request.params.level)));
    return {};
  });

  ctx.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    await Promise.all(
      ctx.connected().map(async (d) => {
        try {
          const client = await d.whenReady(d.config.timeoutMs);
          await client.sendRootsListChanged();
        } catch (error) {
          ctx.logger.debug(`roots list_changed not delivered to ${d.id}`, { error });
        }
      }),
    );
  });
}
