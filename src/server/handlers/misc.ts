/** completion/complete, logging/setLevel and the roots notification going down. */
import type { CompleteResult, LoggingLevel } from '@modelcontextprotocol/server';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { forwardContext, type UpstreamContext, type UpstreamCore } from '../context.js';

const EMPTY_COMPLETION: CompleteResult = { completion: { values: [], hasMore: false } };

export function registerCompletionHandler(up: UpstreamContext): void {
  up.session.server.setRequestHandler('completion/complete', async (request, ctx) => {
    try {
      const { ref } = request.params;
      let serverId: string;
      let mappedRef: typeof ref;
      if (ref.type === 'ref/prompt') {
        const route = await up.state.find((c) => c.resolvePrompt(ref.name), ref.name);
        if (!route) throw new UnknownNameError('prompt', ref.name);
        serverId = route.members[0]!;
        mappedRef = { ...ref, name: route.originalName };
      } else {
        const route = await up.state.find((c) => c.resolveResource(ref.uri));
        if (!route) throw new UnknownNameError('resource', ref.uri);
        serverId = route.serverId;
        mappedRef = { ...ref, uri: route.originalUri };
      }
      // A server known to lack completions simply has no suggestions.
      const snapshot = up.downstream(serverId)?.snapshot;
      if (snapshot && !snapshot.capabilities.completions) return EMPTY_COMPLETION;
      const params = downstreamParams({ ...request.params, ref: mappedRef });
      const forward = { ...forwardContext(up, ctx, request.params), allowInputRequired: false };
      return (await up.router.request(serverId, { method: 'completion/complete', params }, forward)) as never;
    } catch (error) {
      throw toMcpError(error);
    }
  });
}

/** Set a legacy downstream's log level (modern ones take it per request). */
export async function applyLogLevel(core: UpstreamCore, id: string, level: LoggingLevel): Promise<void> {
  const d = core.downstream(id);
  if (!d || d.status !== 'connected' || !d.snapshot?.capabilities.logging || d.era === 'modern') return;
  try {
    const client = await d.whenReady(d.config.timeoutMs);
    await client.setLoggingLevel(level);
  } catch (error) {
    core.logger.debug(`could not set log level on ${id}`, { error });
  }
}

export function registerLoggingHandlers(up: UpstreamContext): void {
  const { session } = up;
  if (session.era === 'modern') return; // 2026-07-28: logLevel rides on each request
  session.server.setRequestHandler('logging/setLevel', async (request) => {
    session.logLevel = request.params.level;
    // Downstreams run at the most verbose level any client wants; each client gets what it asked.
    const level = up.hub.loudestLevel() ?? request.params.level;
    await Promise.all(up.connected().map((d) => applyLogLevel(up, d.id, level)));
    return {};
  });

  session.server.setNotificationHandler('notifications/roots/list_changed', async () => {
    await Promise.all(
      up.connected().map(async (d) => {
        try {
          const client = await d.whenReady(d.config.timeoutMs);
          await client.sendRootsListChanged();
        } catch (error) {
          up.logger.debug(`roots list_changed not delivered to ${d.id}`, { error });
        }
      }),
    );
  });
}
