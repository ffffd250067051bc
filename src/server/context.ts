/**
 * What every upstream handler needs, built once by the composition root and passed down.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Downstream } from '../downstream/types.js';
import type { Router } from '../router/router.js';
import type { Logger } from '../shared/logger.js';
import type { BuiltinRegistry } from './builtins.js';
import type { CatalogState } from './catalog-state.js';

export interface UpstreamContext {
  server: Server;
  state: CatalogState;
  router: Router;
  builtins: BuiltinRegistry;
  downstream(id: string): Downstream | undefined;
  connected(): Downstream[];
  logger: Logger;
}

/** The `extra` of an SDK request handler, as far as forwarding needs it. */
export interface HandlerExtra {
  signal: AbortSignal;
  _meta?: Record<string, unknown>;
  sendNotification: (notification: { method: string; params?: Record<string, unknown> }) => Promise<void>;
}

export function progressRelay(extra: HandlerExtra, params: { _meta?: Record<string, unknown> } | undefined) {
  const token = params?._meta?.progressToken as string | number | undefined;
  return {
    signal: extra.signal,
    progressToken: token,
    sendProgress: (p: Record<string, unknown>) =>
      extra.sendNotification({ method: 'notifications/progress', params: p }),
  };
}
