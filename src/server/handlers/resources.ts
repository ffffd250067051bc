import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { ResourceRoute } from '../../catalog/types.js';
import { downstreamParams } from '../../router/forward.js';
import { UnknownNameError } from '../../shared/errors.js';
import { toMcpError } from '../../shared/mcp-errors.js';
import { progressRelay, type HandlerExtra, type UpstreamContext } from '../context.js';

/** Upstream URIs the client subscribed to, by server and original URI, to map updates back. */
export class Subscriptions {
  private readonly byOrigin = new Map<string, string>();
  add(route: ResourceRoute, exposedUri: string): void {
    this.byOrigin.set(key(route.serverId, route.originalUri), exposedUri);
  }
  remove(route: ResourceRoute): void {
    this.byOrigin.delete(key(route.serverId, route.originalUri));
  }
  exposed(serverId: string, originalUri: string): string | undefined {
    return this.byOrigin.get(key(serverId, originalUri));
  }
}
const key = (serverId: string, uri: string) => `${serverId}\u0000${uri}`;

export function registerResourceHandlers(ctx: UpstreamContext, subscriptions: Subscriptions): void {
  const { server } = ctx;
  server.setRequestHandler(ListResourcesRequestSchema, (request) => {
    try {
      const { page, nextCursor } = ctx.state.current.listResources(request.params?.cursor);
      return nextCursor ? { resources: page, nextCursor } : { resources: page };
    } catch (error) {
      throw toMcpError(error);
    }
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (request) => {
    try {
      const { page, nextCursor } = ctx.state.current.listResourceTemplates(request.params?.cursor);
      return nextCursor ? { resourceTemplates: page, nextCursor } : { resourceTemplates: page };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  const resolve = async (uri: string): Promise<ResourceRoute> => {
    const route = await ctx.state.find((c) => c.resolveResource(uri));
    if (!route) throw new UnknownNameError('resource', uri);
    return route;
  };
  const send = (route: ResourceRoute, method: string, params: Record<string, unknown>, extra: HandlerExtra) =>
    ctx.router.request(
      route.serverId,
      { method, params: downstreamParams({ ...params, uri: route.originalUri }) },
      progressRelay(extra, params),
    );

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    try {
      const uri = request.params.uri;
      const route = await resolve(uri);
      const result = (await send(
        route,
        'resources/read',
        request.params,
        extra as HandlerExtra,
      )) as ReadResourceResult;
      if (route.originalUri === uri) return result;
      // The client asked for a disambiguated URI: answer in the same terms.
      const mapUri = (u: string) => (u === route.originalUri ? uri : `${route.serverId}+${u}`);
      return { ...result, contents: result.contents.map((c) => ({ ...c, uri: mapUri(c.uri) })) };
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    try {
      const route = await resolve(request.params.uri);
      await send(route, 'resources/subscribe', request.params, extra as HandlerExtra);
      subscriptions.add(route, request.params.uri);
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
    try {
      const route = await resolve(request.params.uri);
      subscriptions.remove(route);
      await send(route, 'resources/unsubscribe', request.params, extra as HandlerExtra);
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });
}
