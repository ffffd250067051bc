import type { JSONRPCMessage, ReadResourceResult, Result } from '@modelcontextprotocol/server';
import { BUILTIN_SERVER_ID, type ResourceRoute } from '../../catalog/types.js';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { bridged, tagAsker } from '../bridge.js';
import type { UpstreamContext } from '../context.js';

export function registerResourceHandlers(up: UpstreamContext): void {
  const { server, subscriptions } = up.session;
  const modern = up.session.era === 'modern';
  server.setRequestHandler('resources/list', async (request) => {
    await up.state.beforeList();
    try {
      const { page, nextCursor } = up.state.current.listResources(request.params?.cursor);
      return {
        resources: page,
        ...(nextCursor && { nextCursor }),
        ...(modern && up.state.cacheHint('resources')),
      };
    } catch (error) {
      throw toMcpError(error);
    }
  });
  server.setRequestHandler('resources/templates/list', async (request) => {
    await up.state.beforeList();
    try {
      const { page, nextCursor } = up.state.current.listResourceTemplates(request.params?.cursor);
      return {
        resourceTemplates: page,
        ...(nextCursor && { nextCursor }),
        ...(modern && up.state.cacheHint('resources')),
      };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  const resolve = async (uri: string): Promise<ResourceRoute> => {
    const route = await up.state.find((c) => c.resolveResource(uri));
    if (!route) throw new UnknownNameError('resource', uri);
    return route;
  };

  server.setRequestHandler('resources/read', async (request, ctx) => {
    try {
      const uri = request.params.uri;
      const route = await resolve(uri);
      if (route.serverId === BUILTIN_SERVER_ID) return withCache(up, await readBuiltin(up, uri));
      const params = (extra: Record<string, unknown> = {}) =>
        downstreamParams({ ...request.params, uri: route.originalUri, ...extra });
      const result = (await bridged(
        up,
        ctx,
        request.params,
        async (forward) =>
          tagAsker(
            await up.router.request(route.serverId, { method: 'resources/read', params: params() }, forward),
            route.serverId,
          ),
        (forward, retry) =>
          up.router.request(
            retry.serverId,
            {
              method: 'resources/read',
              params: params({
                inputResponses: retry.inputResponses,
                ...(retry.requestState !== undefined && { requestState: retry.requestState }),
              }),
            },
            forward,
          ),
      )) as ReadResourceResult;
      if (route.originalUri === uri || !Array.isArray(result.contents)) return withCache(up, result);
      // The client asked for a disambiguated URI: answer in the same terms.
      const mapUri = (u: string) => (u === route.originalUri ? uri : `${route.serverId}+${u}`);
      return withCache(up, {
        ...result,
        contents: result.contents.map((c) => ({ ...c, uri: mapUri(c.uri) })),
      });
    } catch (error) {
      throw toMcpError(error);
    }
  });

  if (modern) {
    // 2026-07-28 subscribes through subscriptions/listen: the entry serves it, the tap tells us.
    up.session.onIncoming = listenWatcher(up, resolve);
    return;
  }

  server.setRequestHandler('resources/subscribe', async (request) => {
    try {
      const route = await resolve(request.params.uri);
      if (route.serverId === BUILTIN_SERVER_ID) {
        // The coordinator's own: updates come from the coordination events (see App).
        subscriptions.add(route, request.params.uri);
        return {};
      }
      const d = up.downstream(route.serverId);
      if (!d) throw new UnknownNameError('resource', request.params.uri);
      await d.subscribe(route.originalUri, true, d.config.timeoutMs);
      subscriptions.add(route, request.params.uri);
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler('resources/unsubscribe', async (request) => {
    try {
      const route = await resolve(request.params.uri);
      subscriptions.remove(route);
      const d = up.downstream(route.serverId);
      if (d && !up.hub.watches(route.serverId, route.originalUri)) {
        await d.subscribe(route.originalUri, false, d.config.timeoutMs);
      }
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });
}

/** A coordinator resource as JSON text (tasks://, agents://, collaboration://). */
async function readBuiltin(up: UpstreamContext, uri: string): Promise<ReadResourceResult> {
  const value = await up.builtinResources?.read(uri);
  if (value === undefined) throw new UnknownNameError('resource', uri);
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value) }] };
}

/** resources/read of a modern client carries the cache fields of its downstream (or none known). */
function withCache(up: UpstreamContext, result: ReadResourceResult): ReadResourceResult {
  if (up.session.era !== 'modern' || (result as Result).ttlMs !== undefined) return result;
  return { ...result, ttlMs: 0, cacheScope: 'private' } as ReadResourceResult;
}

/**
 * The resources a modern client listens to (`subscriptions/listen` with `resourceSubscriptions`),
 * subscribed downstream for as long as that listen request lasts (until its cancellation).
 */
function listenWatcher(
  up: UpstreamContext,
  resolve: (uri: string) => Promise<ResourceRoute>,
): (message: JSONRPCMessage) => void {
  const { subscriptions } = up.session;
  const byListen = new Map<string | number, ResourceRoute[]>();

  const open = async (id: string | number, uris: unknown[]): Promise<void> => {
    if (byListen.has(id)) await close(id); // a request id used again replaces its listen
    const routes: ResourceRoute[] = [];
    byListen.set(id, routes);
    for (const uri of uris.slice(0, MAX_LISTENED_RESOURCES)) {
      if (typeof uri !== 'string') continue;
      try {
        const route = await resolve(uri);
        if (route.serverId === BUILTIN_SERVER_ID) {
          subscriptions.add(route, uri);
          routes.push(route);
          continue;
        }
        const d = up.downstream(route.serverId);
        // Cancelled (or the session closed) meanwhile: subscribe nothing more.
        if (!d || byListen.get(id) !== routes) return;
        subscriptions.add(route, uri);
        routes.push(route);
        await d.subscribe(route.originalUri, true, d.config.timeoutMs);
        // Cancelled while that subscribe ran: undo it here, close() did not see it yet.
        if (byListen.get(id) !== routes) {
          byListen.set(id, routes);
          await close(id);
          return;
        }
      } catch (error) {
        up.logger.debug('listen: resource not subscribed downstream', { uri, error });
      }
    }
  };
  const close = async (id: string | number): Promise<void> => {
    const routes = byListen.get(id);
    byListen.delete(id);
    for (const route of routes ?? []) {
      const same = (r: ResourceRoute) => r.serverId === route.serverId && r.originalUri === route.originalUri;
      if ([...byListen.values()].some((rs) => rs.some(same))) continue;
      subscriptions.remove(route);
      const d = up.downstream(route.serverId);
      if (!d || up.hub.watches(route.serverId, route.originalUri)) continue;
      await d.subscribe(route.originalUri, false, d.config.timeoutMs).catch(() => {});
    }
  };

  // The connection ends every listen it carried.
  up.session.onClose.push(() => {
    for (const id of [...byListen.keys()]) void close(id);
  });

  return (message) => {
    const m = message as { id?: string | number; method?: string; params?: Record<string, unknown> };
    if (m.method === 'subscriptions/listen' && m.id !== undefined) {
      const filter = m.params?.notifications as { resourceSubscriptions?: unknown } | undefined;
      if (Array.isArray(filter?.resourceSubscriptions)) void open(m.id, filter.resourceSubscriptions);
    } else if (m.method === 'notifications/cancelled') {
      const id = m.params?.requestId as string | number | undefined;
      if (id !== undefined && byListen.has(id)) void close(id);
    }
  };
}

/** Resources one listen request may watch downstream. */
const MAX_LISTENED_RESOURCES = 1_000;
