/**
 * What every upstream handler needs: the process-wide core (built once by the composition root)
 * and the session of the client it serves.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  type ClientCapabilities,
  type LoggingLevel,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { AccessControl } from '../coordination/access.js';
import type { Downstream } from '../downstream/types.js';
import type { ForwardContext } from '../router/forward.js';
import type { Router } from '../router/router.js';
import type { Logger } from '../shared/logger.js';
import type { BuiltinRegistry } from './builtins.js';
import type { CatalogState } from './catalog-state.js';
import type { Exchange } from './exchange.js';
import type { CallOrigin, SessionHub } from './hub.js';
import type { RequestStateSealer } from './request-state.js';
import type { UpstreamSession } from './session.js';

/** The process-wide part: one for all clients. */
export interface UpstreamCore {
  state: CatalogState;
  router: Router;
  builtins: BuiltinRegistry;
  /** `coordination.access`: every tools/call is checked against it (absent: everything allowed). */
  access?: AccessControl;
  /** The coordinator's own resources (tasks://, agents://, collaboration://): JSON, or undefined when absent. */
  builtinResources?: { read(uri: string): Promise<Record<string, unknown> | undefined> };
  hub: SessionHub;
  sealer: RequestStateSealer;
  /** This process among the instances sharing a store (sealed into parked exchanges' state). */
  instanceTag: string;
  /** Parked exchanges of modern clients, by id. */
  exchanges: Map<string, Exchange<unknown>>;
  downstream(id: string): Downstream | undefined;
  connected(): Downstream[];
  logger: Logger;
  /** Each MCP request served, by method and duration (the metrics); absent: not timed. */
  observeOperation?(method: string, seconds: number): void;
}

/** The core plus the session a handler serves. */
export interface UpstreamContext extends UpstreamCore {
  session: UpstreamSession;
}

/** The request's own `_meta` envelope (modern): its declared capabilities and log level. */
export function envelopeOf(ctx: ServerContext): {
  capabilities?: ClientCapabilities;
  logLevel?: LoggingLevel;
} {
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  return {
    capabilities: envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined,
    logLevel: envelope[LOG_LEVEL_META_KEY] as LoggingLevel | undefined,
  };
}

/** Progress of the downstream relayed under the client's token, cancellation, call tracking. */
export function forwardContext(
  upstream: UpstreamContext,
  ctx: ServerContext,
  params: { _meta?: Record<string, unknown> } | undefined,
  origin?: CallOrigin,
): ForwardContext {
  // Modern requests: the SDK lifts `_meta` (envelope keys out) into ctx.mcpReq._meta.
  const token = (ctx.mcpReq._meta?.progressToken ?? params?._meta?.progressToken) as
    string | number | undefined;
  const tracked = origin ?? { session: upstream.session, ctx };
  return {
    signal: ctx.mcpReq.signal,
    progressToken: token,
    sendProgress: (p) => ctx.mcpReq.notify({ method: 'notifications/progress', params: p }),
    track: (serverId) => upstream.hub.track(serverId, tracked),
    allowInputRequired: true,
    // A modern downstream hears a log level only on a request: the request's own (modern client),
    // or what a legacy client set with logging/setLevel.
    logLevel: upstream.session.era === 'modern' ? envelopeOf(ctx).logLevel : upstream.session.logLevel,
    // What the downstream may ask of the client: this request's declaration (modern), or what a
    // legacy client declared at initialize.
    clientCapabilities:
      upstream.session.era === 'modern' ? envelopeOf(ctx).capabilities : upstream.session.capabilities(),
  };
}
