/** completion/complete, logging/setLevel and the roots notification going down. */
import {
  CompleteRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  type CompleteResult,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import { downstreamParams, forward } from '../../router/forward.js';
import { TransportFailureError, UnknownNameError, toMcpError } from '../../shared/errors.js';
import { progressRelay, type HandlerExtra, type UpstreamContext } from '../context.js';

const EMPTY_COMPLETION: CompleteResult = { completion: { values: [], hasMore: false } };

export function registerCompletionHandler(ctx: UpstreamContext): void {
  ctx.server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    try {
      const { ref } = request.params;
      let serverId: string;
      let mappedRef: typeof ref;
      if (ref.type === 'ref/prompt') {
        const route = ctx.state.current.resolvePrompt(ref.name);
        if (!route) throw new UnknownNameError('prompt', ref.name);
        serverId = route.members[0]!;
        mappedRef = { ...ref, name: route.originalName };
      } else {
        const route = ctx.state.current.resolveResource(ref.uri);
        if (!route) throw new UnknownNameError('resource', ref.uri);
        serverId = route.serverId;
        mappedRef = { ...ref, uri: route.originalUri };
      }
      const d = ctx.downstream(serverId);
      if (!d) throw new TransportFailureError(serverId, 'unavailable', `${serverId}: not running`);
      // A server without completions simply has no suggestions.
      if (d.snapshot && !d.snapshot.capabilities.completions) return EMPTY_COMPLETION;
      const params = downstreamParams({ ...request.params, ref: mappedRef });
      return (await forward(
        d,
        { method: 'completion/complete', params },
        progressRelay(extra as HandlerExtra, request.params),
      )) as never;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}

/** The level the client asked for, applied to every downstream now and to each that connects later. */
export class LogLevelState {
  level: LoggingLevel | undefined;
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
