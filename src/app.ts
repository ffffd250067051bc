/**
 * The composition root: config → bus and coordination, pool, catalog, router, health, upstream
 * server. Everything is built once here and passed down; nothing below reads the environment,
 * argv or files of its own accord.
 */
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/schema.js';
import { closest } from './config/suggest.js';
import { diffServers, watchConfig, type ConfigWatcher } from './config/watch.js';
import { catalogCacheDir } from './catalog/cache-location.js';
import { loadCacheKey } from './catalog/cache-key.js';
import { CatalogDiskCache } from './catalog/disk-cache.js';
import { namespaceOptions } from './catalog/from-config.js';
import { AccessControl } from './coordination/access.js';
import { createBus } from './coordination/bus/index.js';
import {
  ArchivedBus,
  coordinationTools,
  createCoordination,
  openArchive,
  type Coordination,
} from './coordination/index.js';
import {
  changedResourceUris,
  COORDINATION_RESOURCE_TEMPLATES,
  CoordinationResources,
  isCoordinationUri,
} from './coordination/resources.js';
import type { EventBus } from './coordination/types.js';
import { BUILTIN_SERVER_ID } from './catalog/types.js';
import { createPool, type DownstreamPool } from './downstream/pool.js';
import { HealthMonitor } from './router/health.js';
import { ResultCache } from './router/result-cache.js';
import type { RoutingPolicy } from './router/resolve.js';
import { Router } from './router/router.js';
import { BuiltinRegistry, type BuiltinTool } from './server/builtins.js';
import { routingTools } from './server/builtin-routing.js';
import { statusTools } from './server/builtin-status.js';
import { CatalogState } from './server/catalog-state.js';
import type { UpstreamCore } from './server/context.js';
import type { Exchange } from './server/exchange.js';
import { applyLogLevel } from './server/handlers/misc.js';
import { SessionHub } from './server/hub.js';
import { AgentPresence } from './server/presence.js';
import type { Tracer } from './observability/tracing.js';
import { RequestStateSealer } from './server/request-state.js';
import type { SessionEra, UpstreamSession } from './server/session.js';
import { SERVER_INFO, sessionFactory, type SessionBinding } from './server/upstream.js';
import type { Logger } from './shared/logger.js';
import { redact } from './shared/redact.js';
import { LogRing, stderrLevel } from './observability/log-ring.js';
import { Metrics } from './observability/metrics.js';

/** How long start-up waits for the first PostgreSQL connection (and migrations). */
const ARCHIVE_READY_MS = 3_000;

export interface AppOptions {
  config: Config;
  configFile: string;
  logger: Logger;
  /** $MCP_AGENT_ID when set: overrides the agent id derived from the client. */
  agentId?: string;
  /** The per-user key of the warm catalog (`catalog/cache-key`); without it the cache lasts one run. */
  cacheKeyFile?: string;
  /**
   * false for one-shot commands (`tools`, `call`, `health` …): they are no member of the team, so
   * they neither write the shared server registry (no `server:registered` / `tools:changed`) nor
   * publish health transitions. Coordination actions they are asked for (a lock, a task) are
   * published as usual. Default true.
   */
  announce?: boolean;
  /** OpenTelemetry traces of routed calls (see observability/tracing); absent: off. */
  tracer?: Tracer;
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
  readonly hub: SessionHub;
  /** A new client of either era: its session (and server instance). */
  readonly newSession: (era: SessionEra, binding?: SessionBinding) => UpstreamSession;
  readonly pool: DownstreamPool;
  readonly state: CatalogState;
  readonly router: Router;
  readonly health: HealthMonitor;
  readonly builtins = new BuiltinRegistry();
  /** `coordination.access`: checked on every tool call, file lock or claim, and published event. */
  readonly access: AccessControl;
  /** This process: event source and registry owner. */
  readonly instanceId: string;
  /**
   * A short opaque name of this process among the instances sharing a store: legacy HTTP session
   * ids and parked exchanges carry it, so another instance knows whom to forward them to.
   */
  readonly instanceTag = randomBytes(6).toString('hex');
  /** Seals and opens the requestState this coordinator mints (keyed by coordination.secret). */
  readonly sealer: RequestStateSealer;
  readonly resultCache: ResultCache;
  /** The agents the sessions act as: registered once, gone when no session is left. */
  private readonly presence: AgentPresence;
  private readonly presenceSweep: NodeJS.Timeout;
  // Observability (src/observability): `/metrics` and `/api/logs*` read these.
  readonly metrics: Metrics;
  readonly logs = new LogRing();
  private readonly stopObserving: Array<() => void> = [];
  private agent: string;
  private closed = false;
  private config: Config;
  private policy: RoutingPolicy;
  /** Set while the config file on disk is invalid (the running config is kept). */
  private configError: string | undefined;
  private watcher: ConfigWatcher | undefined;
  private deferredStart: NodeJS.Timeout | undefined;
  private readonly toRegister = new Set<string>();

  /** Bus and coordination first (the Redis connection is awaited briefly), then the rest. */
  static async create(options: AppOptions): Promise<App> {
    const { config, logger } = options;
    const instanceId = `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const agentId = options.agentId ?? `mcp-coordinator-${hostname()}-${process.pid}`;
    const c = config.coordination;
    // The durable record first, so the bus can hand it every event from the first one on.
    const archive = await openArchive({ url: c.postgres, prefix: c.prefix, logger });
    // Like Redis: a brief wait for the first connection (a refused one answers at once), so a
    // one-shot command sees PostgreSQL as it is; when it is down the coordinator starts anyway.
    if (archive && !(await archive.ready(ARCHIVE_READY_MS))) {
      logger.warn('postgres not reachable yet; buffering the durable record and retrying');
    }
    const sharedBus = await createBus({
      redisUrl: c.redis,
      prefix: c.prefix,
      streamMaxLen: c.streamMaxLen,
      secret: c.secret,
      source: instanceId,
      agentId,
      logger: logger.child('bus'),
    });
    const bus = archive
      ? new ArchivedBus(sharedBus, archive, { ...(c.secret && { secret: c.secret }), logger })
      : sharedBus;
    const coordination = await createCoordination({
      redisUrl: c.redis,
      prefix: c.prefix,
      lockTtlMs: c.lockTtlMs,
      agentTtlMs: c.agentTtlMs,
      workspaceRoot: c.workspaceRoot ?? process.cwd(),
      bus,
      source: instanceId,
      ...(c.secret && { secret: c.secret }),
      ...(archive && { archive }),
      logger,
    });
    const diskCache = await openDiskCache(options);
    return new App(options, instanceId, agentId, bus, coordination, diskCache);
  }

  private constructor(
    private readonly options: AppOptions,
    instanceId: string,
    agentId: string,
    readonly bus: EventBus,
    readonly coordination: Coordination,
    private readonly diskCache: CatalogDiskCache | undefined,
  ) {
    const { logger, config } = options;
    this.config = config;
    this.policy = routingPolicy(config);
    this.resultCache = new ResultCache({ servers: config.servers });
    // invalidate_cache, from any coordinator on the bus, drops matching results here.
    coordination.caches.attach(this.resultCache, config.namespace.separator);
    this.instanceId = instanceId;
    this.sealer = new RequestStateSealer(config.coordination.secret);
    this.agent = agentId;
    this.metrics = this.observe(logger, bus, coordination);
    this.access = new AccessControl(config.coordination.access, bus);
    this.hub = new SessionHub(logger.child('sessions'));
    const hub = this.hub;
    this.pool = createPool({
      servers: Object.entries(config.servers).filter(([, s]) => s.enabled),
      hooks: {
        onRequest: (id, request, signal) => hub.onDownstreamRequest(id, request, signal),
        onNotification: (id, notification) =>
          hub.onDownstreamNotification(id, notification, (session, uri) =>
            session.era === 'legacy' || session.identity.ephemeral
              ? session.subscriptions.exposed(id, uri)
              : (session.subscriptions.exposed(id, uri) ?? this.exposedUri(id, uri)),
          ),
      },
      priorEra: (id, server) => {
        const cached = diskCache?.get(id, server);
        return cached?.era ? { era: cached.era, discover: cached.discover } : undefined;
      },
      logger: logger.child('downstream'),
      stderrSink: (id, line) => {
        process.stderr.write(`[${id}] ${redact(line)}\n`);
        this.logs.push(`server:${id}`, stderrLevel(line), line);
      },
      clientInfo: SERVER_INFO,
    });
    this.health = new HealthMonitor({
      pool: this.pool,
      ...config.health,
      redis: () => coordination.redisStatus(),
      postgres: () => {
        const stats = coordination.archiveStats();
        if (!stats) return { status: 'disabled' };
        const { status, ...detail } = stats;
        return { status, detail };
      },
      logger: logger.child('health'),
      onTransition: (serverId, from, to, detail) => {
        if (options.announce === false) return;
        bus.publish({
          type: to === 'healthy' ? 'health:recovered' : 'health:degraded',
          data: { serverId, from, to, detail },
        });
      },
    });
    this.router = new Router({
      find: (lookup, name) => this.state.find(lookup, name),
      suggest: (name) =>
        closest(
          name,
          this.state.current.tools.map((t) => t.name),
        ),
      downstream: (id) => this.pool.get(id),
      policy: () => this.policy,
      isAvailable: (id) => this.health.isAvailable(id),
      resultCache: this.resultCache,
      onCallEnd: (server, tool, outcome, seconds) => this.metrics.observeCall(server, tool, outcome, seconds),
      ...(options.tracer && { tracer: options.tracer }),
    });
    this.builtins.add(
      ...routingTools(this.router),
      ...statusTools({
        health: this.health,
        pool: this.pool,
        registry: coordination.registry,
        bus,
        instanceId,
        details: () => ({
          config: { file: this.options.configFile, error: this.configError ?? null },
          resultCache: this.resultCache.stats(),
        }),
      }),
      ...coordinationTools({
        locks: coordination.locks,
        tasks: coordination.tasks,
        agents: coordination.agents,
        state: coordination.state,
        caches: coordination.caches,
        agentId: () => this.agent,
        owner: coordination.owner,
        workspaceRoot: coordination.workspaceRoot,
        lockTtlMs: coordination.lockTtlMs,
        access: this.access,
      }).map((t) => ({ ...t, inputSchema: t.inputSchema as BuiltinTool['inputSchema'] })),
    );
    this.state = new CatalogState({
      pool: this.pool,
      namespace: namespaceOptions(config.namespace),
      builtinTools: this.builtins.definitions(),
      builtinResources: { resourceTemplates: COORDINATION_RESOURCE_TEMPLATES, ownsUri: isCoordinationUri },
      logger,
      cached: diskCache ? (id, server) => diskCache.get(id, server) : undefined,
      startupWaitMs: config.startupWaitMs,
    });
    const core: UpstreamCore = {
      state: this.state,
      router: this.router,
      builtins: this.builtins,
      access: this.access,
      builtinResources: new CoordinationResources(coordination),
      hub,
      sealer: this.sealer,
      instanceTag: this.instanceTag,
      exchanges: new Map<string, Exchange<unknown>>(),
      logger,
      downstream: (id) => this.pool.get(id),
      connected: () => this.pool.all().filter((d) => d.status === 'connected'),
      observeOperation: (method, seconds) => this.metrics.observeOperation(method, seconds),
    };
    this.newSession = sessionFactory({
      core,
      idPrefix: instanceId,
      owner: coordination.owner,
      agentIdFor: (info) =>
        options.agentId ?? (info?.name ? `${info.name}-${hostname()}-${process.pid}` : agentId),
      onIdentified: (session, info) => {
        identified.add(session);
        if (!session.identity.ephemeral) this.agent = session.agentId;
        this.presence.seen(session.agentId, info, !session.identity.ephemeral);
      },
      onClosed: (session) => {
        if (identified.has(session) && !session.identity.ephemeral) this.presence.closed(session.agentId);
      },
    });
    const identified = new WeakSet<UpstreamSession>();
    this.presence = new AgentPresence({
      register: (agentId, info) => void this.registerAgent(agentId, info),
      leave: (agentId) =>
        void this.coordination.agents
          .leave(agentId)
          .catch((error) => logger.debug('agent leave failed', { agentId, error })),
      idleMs: Math.max(config.http.sessionIdleMs, config.coordination.agentTtlMs),
    });
    this.presenceSweep = setInterval(() => this.presence.sweep(), 60_000);
    this.presenceSweep.unref();
    this.state.on('changed', (changes) => hub.onCatalogChanged(changes));
    this.stopObserving.push(this.notifyCoordinationResources(bus));
    this.pool.on('status', (id, status) => {
      const level = hub.loudestLevel();
      if (status === 'connected' && level) void applyLogLevel(core, id, level);
      this.register(id);
    });
    this.pool.on('catalog', (id, snapshot) => {
      const d = this.pool.get(id);
      if (d) this.diskCache?.set(id, d.config, snapshot);
      this.register(id);
    });
  }

  /** The calling agent: $MCP_AGENT_ID, else <clientInfo.name>-<hostname>-<pid>. */
  get agentId(): string {
    return this.agent;
  }

  /** A client said who it is: register it as an agent (agent:registered). */
  async registerAgent(agentId: string, clientInfo?: { name: string; version?: string }): Promise<void> {
    try {
      await this.coordination.agents.register(agentId, { ...clientInfo });
    } catch (error) {
      this.options.logger.warn('agent not registered (coordination store unreachable)', { error });
    }
  }

  /**
   * Start every eager downstream, all in parallel, and the health monitor (not once closing).
   * With `cachedAfterMs`, the servers whose catalog the warm cache holds start that much later
   * (the client is answered from the cache meanwhile, and a call routed to one starts it at
   * once); every other server starts now, so a call for its names waits for it as usual.
   */
  startDownstreams(options: { cachedAfterMs?: number } = {}): void {
    if (this.closed) return;
    const later = options.cachedAfterMs ?? 0;
    if (later > 0) {
      // Without a cached catalog nobody knows a server's names yet, lazy or not: start it now.
      for (const d of this.pool.all()) if (!this.diskCache?.get(d.id, d.config)) d.start();
      this.deferredStart = setTimeout(() => this.startDownstreams(), later);
      this.deferredStart.unref();
      return;
    }
    this.pool.startAll();
    // A lazy server whose catalog we have never seen is started once to learn it: without its
    // tool names nobody could ever call it. With a warm catalog it waits for its first call.
    for (const d of this.pool.all()) {
      if (d.config.startup === 'lazy' && !this.diskCache?.get(d.id, d.config)) d.start();
    }
    this.health.start();
  }

  /** Serve: follow servers.yml; only the servers that changed restart. */
  watchConfig(env: Record<string, string | undefined>): void {
    const { logger, configFile } = this.options;
    this.watcher = watchConfig(configFile, {
      env,
      logger,
      current: this.config,
      onChange: (next) => this.applyConfig(next),
      onError: (error) => {
        this.configError = error.message;
        logger.error(`config not applied, the running one is kept: ${error.message}`);
      },
    });
  }

  /** Apply a new config: stop removed and changed servers, start added and changed ones. */
  async applyConfig(next: Config): Promise<void> {
    const { logger } = this.options;
    const diff = diffServers(this.config, next);
    for (const section of ['namespace', 'health', 'coordination', 'cacheDir'] as const) {
      if (!isDeepStrictEqual(this.config[section], next[section])) {
        logger.warn(`config: changes to "${section}" apply after a restart`);
      }
    }
    this.config = next;
    this.configError = undefined;
    this.policy = routingPolicy(next);
    this.resultCache.configure(next.servers);
    await Promise.all([...diff.removed, ...diff.changed].map((id) => this.pool.remove(id)));
    for (const id of [...diff.added, ...diff.changed]) {
      const server = next.servers[id];
      if (server?.enabled) this.pool.add(id, server);
    }
    this.state.invalidate();
    logger.info('config applied', { ...diff });
  }

  /**
   * An operator's restart of one server (REST, dashboard): a fresh supervisor on the same config,
   * so the crash-restart count starts again. false when no such server runs.
   */
  async restartServer(id: string): Promise<boolean> {
    const d = this.pool.get(id);
    if (!d || this.closed) return false;
    const config = d.config;
    this.options.logger.info(`restarting ${id} on request`);
    await this.pool.remove(id);
    if (!this.closed) this.pool.add(id, config).start();
    this.state.invalidate();
    return true;
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
    clearTimeout(this.deferredStart);
    this.health.stop();
    clearInterval(this.presenceSweep);
    this.watcher?.close();
    for (const stop of this.stopObserving.splice(0)) stop();
    await Promise.allSettled([
      this.options.tracer?.close(),
      ...[...this.hub.sessions].map((s) => s.server.close()),
      this.pool.stopAll(),
      this.coordination.close(),
      this.diskCache?.flush(),
    ]);
    await this.bus.close();
  }

  /**
   * The metrics (pool, locks and catalog read at scrape time; events counted as the bus delivers
   * them, published here or received) and the log tee: the logger's lines go to the ring as well.
   */
  private observe(logger: Logger, bus: EventBus, coordination: Coordination): Metrics {
    const metrics = new Metrics({
      pool: { all: () => this.pool.all() },
      locks: coordination.locks,
      knownTool: (name) => this.state.current.resolveTool(name) !== undefined,
    });
    this.stopObserving.push(bus.subscribe((event) => metrics.countEvent(event.type)));
    const stopTee = logger.addSink?.(({ level, scope, message }) =>
      this.logs.push(scope ? `coordinator/${scope}` : 'coordinator', level, message),
    );
    if (stopTee) this.stopObserving.push(stopTee);
    return metrics;
  }

  /**
   * The coordinator's resources change with the coordination events (from any instance on the
   * bus): subscribers hear `notifications/resources/updated` as they would from a downstream.
   */
  private notifyCoordinationResources(bus: EventBus): () => void {
    return bus.subscribe((event) => {
      for (const uri of changedResourceUris(event)) {
        this.hub.onDownstreamNotification(
          BUILTIN_SERVER_ID,
          { method: 'notifications/resources/updated', params: { uri } },
          (session, u) =>
            session.era === 'legacy' || session.identity.ephemeral
              ? session.subscriptions.exposed(BUILTIN_SERVER_ID, u)
              : u,
        );
      }
    });
  }

  /** How a downstream's resource URI is exposed: as is, or `<id>+<uri>` when several share it. */
  private exposedUri(serverId: string, uri: string): string {
    return this.state.current.resolveResource(uri)?.serverId === serverId ? uri : `${serverId}+${uri}`;
  }

  /**
   * Keep the shared registry current for one server (never blocks a call). A connect fires both
   * `status` and `catalog` in one turn: the ids of a turn are written once, at its end.
   */
  private register(id: string): void {
    if (this.closed || this.options.announce === false) return;
    if (this.toRegister.size === 0) queueMicrotask(() => this.flushRegistry());
    this.toRegister.add(id);
  }

  private flushRegistry(): void {
    const ids = [...this.toRegister];
    this.toRegister.clear();
    for (const id of ids) this.upsertRegistry(id);
  }

  private upsertRegistry(id: string): void {
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
        era: d.era ?? null,
      })
      .catch((error) => this.options.logger.debug('registry not updated', { error }));
  }
}

/** The warm catalog, where `catalogCacheDir` puts it. */
async function openDiskCache(options: AppOptions): Promise<CatalogDiskCache | undefined> {
  const dir = catalogCacheDir(options.config.cacheDir, options.configFile);
  if (dir === undefined) return undefined;
  const logger = options.logger.child('catalog-cache');
  const key = options.cacheKeyFile ? await loadCacheKey(options.cacheKeyFile, logger) : randomBytes(32);
  const cache = new CatalogDiskCache({ dir, logger, key });
  await cache.load();
  return cache;
}
