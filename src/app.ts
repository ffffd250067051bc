/**
 * The composition root: config → pool, catalog, router, upstream server (and, in serve,
 * coordination). Everything is built once here and passed down; nothing below reads the
 * environment or argv.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Config } from './config/schema.js';
import { createPool, type DownstreamPool } from './downstream/pool.js';
import type { Downstream } from './downstream/types.js';
import type { RoutingPolicy } from './router/resolve.js';
import { Router } from './router/router.js';
import { BuiltinRegistry } from './server/builtins.js';
import { routingTools } from './server/builtin-routing.js';
import { CatalogState } from './server/catalog-state.js';
import {
  SERVER_INFO,
  UpstreamSession,
  createDownstreamHooks,
  createServer,
  registerUpstreamHandlers,
} from './server/upstream.js';
import type { Logger } from './shared/logger.js';

export interface AppOptions {
  config: Config;
  configFile: string;
  logger: Logger;
}

export function routingPolicy(config: Config): RoutingPolicy {
  const groups = new Map<string, string[]>();
  for (const [id, server] of Object.entries(config.servers)) {
    if (!server.enabled || !server.group) continue;
    groups.set(server.group, [...(groups.get(server.group) ?? []), id]);
  }
  return {
    rules: config.routing.rules,
    defaultTarget: config.routing.default,
    failover: config.routing.failover,
    groups,
  };
}

export class App {
  readonly server: Server;
  readonly pool: DownstreamPool;
  readonly state: CatalogState;
  readonly router: Router;
  readonly builtins = new BuiltinRegistry();
  private config: Config;
  private closed = false;

  constructor(private readonly options: AppOptions) {
    const { logger } = options;
    this.config = options.config;
    this.server = createServer();
    const session = new UpstreamSession(this.server);
    this.pool = createPool({
      servers: Object.entries(this.config.servers).filter(([, s]) => s.enabled),
      hooks: createDownstreamHooks(session, logger),
      logger: logger.child('downstream'),
      stderrSink: (id, line) => process.stderr.write(`[${id}] ${line}\n`),
      clientInfo: SERVER_INFO,
    });
    this.router = new Router({
      catalog: () => this.state.current,
      downstream: (id) => this.pool.get(id),
      policy: () => routingPolicy(this.config),
      isAvailable: (id) => isAvailable(this.pool.get(id)),
      settled: (ms) => this.state.settled(ms),
    });
    this.builtins.add(...routingTools(this.router));
    this.state = new CatalogState({
      pool: this.pool,
      namespace: {
        separator: this.config.namespace.separator,
        maxLength: this.config.namespace.maxNameLength,
      },
      builtinTools: this.builtins.definitions(),
      logger,
    });
    const upstream = registerUpstreamHandlers(
      {
        server: this.server,
        state: this.state,
        router: this.router,
        builtins: this.builtins,
        logger,
        downstream: (id) => this.pool.get(id),
        connected: () => this.pool.all().filter((d) => d.status === 'connected'),
      },
      session,
    );
    this.pool.on('status', (id, status) => {
      if (status === 'connected') upstream.onDownstreamConnected(id);
    });
  }

  /** Start every eager downstream, all in parallel. */
  startDownstreams(): void {
    this.pool.startAll();
  }

  /** Resolves once no eager server is still starting for the first time (bounded). */
  settled(timeoutMs: number): Promise<void> {
    return this.state.settled(timeoutMs);
  }

  killAllSync(): void {
    this.pool.killAllSync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.server.close(), this.pool.stopAll()]);
  }
}

function isAvailable(d: Downstream | undefined): boolean {
  if (!d) return false;
  return d.status !== 'crash-loop' && d.status !== 'stopped' && d.status !== 'restarting';
}
