/**
 * The composition root: config → bus and coordination, pool, catalog, router, health, upstream
 * server. Everything is built once here and passed down; nothing below reads the environment,
 * argv or files of its own accord.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Config } from './config/schema.js';
import { createBus } from './coordination/bus/index.js';
import { coordinationTools, createCoordination, type Coordination } from './coordination/index.js';
import type { EventBus } from './coordination/types.js';
import { createPool, type DownstreamPool } from './downstream/pool.js';
import { HealthMonitor } from './router/health.js';
import type { RoutingPolicy } from './router/resolve.js';
import { Router } from './router/router.js';
import { BuiltinRegistry, type BuiltinTool } from './server/builtins.js';
import { routingTools } from './server/builtin-routing.js';
import { statusTools } from './server/builtin-status.js';
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
  /** $MCP_AGENT_ID when set: overrides the agent id derived from the client. */
  agentId?: string;
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
  readonly health: HealthMonitor;
  readonly builtins = new BuiltinRegistry();
  /** This process: event source and registry owner. */
  readonly instanceId: string;
  private agent: string;
  private closed = false;

  /** Bus and coordination first (the Redis connection is awaited briefly), then the rest. */
  static async create(options: AppOptions): Promise<App> {
    const { config, logger } = options;
    const instanceId = `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const agentId = options.agentId ?? `mcp-coordinator-${hostname()}-${process.pid}`;
    const c = config.coordination;
    const bus = createBus({
      redisUrl: c.redis,
      prefix: c.prefix,
      streamMaxLen: c.streamMaxLen,
      secret: c.secret,
      source: instanceId,
      agentId,
      logger: logger.child('bus'),
    });
    const coordination = await createCoordination({
      redisUrl: c.redis,
      prefix: c.prefix,
      lockTtlMs: c.lockTtlMs,
      agentTtlMs: c.agentTtlMs,
      workspaceRoot: c.workspaceRoot ?? process.cwd(),
      bus,
      source: instanceId,
      logger,
    });
    return new App(options, instanceId, agentId, bus, coordination);
  }

  private constructor(
    private readonly options: AppOptions,
    instanceId: string,
    agentId: string,
    readonly bus: EventBus,
    readonly coordination: Coordination,
  ) {
    const { logger, config } = options;
    this.instanceId = instanceId;
    this.agent = agentId;
    this.server = createServer();
    const session = new UpstreamSession(this.server);
    this.pool = createPool({
      servers: Object.entries(config.servers).filter(([, s]) => s.enabled),
      hooks: createDownstreamHooks(session, logger),
      logger: logger.child('downstream'),
      stderrSink: (id, line) => process.stderr.write(`[${id}] ${line}\n`),
      clientInfo: SERVER_INFO,
    });
    this.health = new HealthMonitor({
      pool: this.pool,
      ...config.health,
      redis: () => coordination.redisStatus(),
      logger: logger.child('health'),
      onTransition: (serverId, from, to, detail) => {
        bus.publish({
          type: to === 'healthy' ? 'health:recovered' : 'health:degraded',
          data: { serverId, from, to, detail },
        });
      },
    });
    const policy = routingPolicy(config);
    this.router = new Router({
      find: (lookup) => this.state.find(lookup),
      downstream: (id) => this.pool.get(id),
      policy: () => policy,
      isAvailable: (id) => this.health.isAvailable(id),
    });
    this.builtins.add(
      ...routingTools(this.router),
      ...statusTools({
        health: this.health,
        pool: this.pool,
        registry: coordination.registry,
        bus,
        instanceId,
      }),
      ...coordinationTools({
        locks: coordination.locks,
        tasks: coordination.tasks,
        agentId: () => this.agent,
        workspaceRoot: coordination.workspaceRoot,
        lockTtlMs: coordination.lockTtlMs,
      }).map((t) => ({ ...t, inputSchema: t.inputSchema as BuiltinTool['inputSchema'] })),
    );
    this.state = new CatalogState({
      pool: this.pool,
      namespace: { separator: config.namespace.separator, maxLength: config.namespace.maxNameLength },
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
      this.register(id);
    });
    this.pool.on('catalog', (id) => this.register(id));
  }

  /** The calling agent: $MCP_AGENT_ID, else <clientInfo.name>-<hostname>-<pid>. */
  get agentId(): string {
    return this.agent;
  }

  /** Serve: once the client said who it is, register it as the agent (agent:registered). */
  async registerAgent(clientInfo: { name: string; version?: string } | undefined): Promise<void> {
    if (!this.options.agentId && clientInfo?.name)
      this.agent = `${clientInfo.name}-${hostname()}-${process.pid}`;
    try {
      await this.coordination.agents.register(this.agent, { ...clientInfo });
    } catch (error) {
      this.options.logger.warn('agent not registered (coordination store unreachable)', { error });
    }
  }

  /** Start every eager downstream, all in parallel, and the health monitor. */
  startDownstreams(): void {
    this.pool.startAll();
    this.health.start();
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
    this.health.stop();
    await Promise.allSettled([this.server.close(), this.pool.stopAll(), this.coordination.close()]);
    await this.bus.close();
  }

  /** Keep the shared registry current for one server (never blocks a call). */
  private register(id: string): void {
    const d = this.pool.get(id);
    if (!d?.snapshot || this.closed) return;
    this.coordination.registry
      .upsert({
        serverId: id,
        name: d.snapshot.serverInfo.name,
        version: d.snapshot.serverInfo.version,
        tools: d.snapshot.tools.map((t) => t.name),
        status: d.status,
        transport: d.transport,
      })
      .catch((error) => this.options.logger.debug('registry not updated', { error }));
  }
}
