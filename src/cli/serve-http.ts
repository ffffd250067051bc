/**
 * `serve --http`: the core served to many clients over HTTP. stdin is not the protocol here (it
 * is not watched: a service has none); signals end it, after the calls in flight finished.
 */
import type { App } from '../app.js';
import type { Config } from '../config/schema.js';
import { parseListen } from '../http/address.js';
import { HttpFace } from '../http/face.js';
import { httpGuards } from '../http/guards.js';
import { isRedisConfigured } from '../coordination/redis-target.js';
import { observabilityRoutes } from '../http/observability-routes.js';
import { MemoryInstanceRegistry, PEER_DEFAULTS, Peers, type InstanceRegistry } from '../http/peers.js';
import { HttpError } from '../http/respond.js';
import { Authenticator } from '../http/auth.js';
import { uiRoutes } from '../http/ui-routes.js';
import { UiSessions } from '../http/ui-sessions.js';
import type { Logger } from '../shared/logger.js';
import { UsageError } from './args.js';
import { installLifecycle } from './lifecycle.js';
import { WARM_START_DELAY_MS } from './run.js';
import { packageVersion } from './version.js';

export interface ServeHttpOptions {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  unguard: () => void;
  warm: boolean;
  /** `--http` or `http.listen`. */
  listen: string;
  http: Config['http'];
  /** The shared Redis (when set) is where the instances find each other. */
  coordination: Config['coordination'];
}

export async function serveHttp(app: App, options: ServeHttpOptions): Promise<number> {
  const { logger, http } = options;
  const listen = parseListen(options.listen);
  const advertise = await advertiseUrl(options.env).catch(async (error: unknown) => {
    await app.close(); // bad usage: nothing was started, but the store connections are open
    throw error;
  });
  const { redis, prefix, secret } = options.coordination;
  // Forwarding carries the caller's credentials to the instance the registry names, so the
  // registry must be signed: without coordination.secret, every instance keeps its own sessions.
  if (isRedisConfigured(redis) && !secret) {
    logger.warn(
      'coordination.redis without coordination.secret: instances do not forward legacy sessions, dashboard sessions or ' +
        'input_required retries to each other (set the secret to sign the instance registry)',
    );
  }
  const registry: InstanceRegistry =
    isRedisConfigured(redis) && secret
      ? await (
          await import('../http/instances-redis.js')
        ).openRedisInstances(redis, prefix, PEER_DEFAULTS.staleAfterMs, secret, logger.child('peers'))
      : new MemoryInstanceRegistry();
  const peers = new Peers({
    tag: app.instanceTag,
    sealer: app.sealer,
    registry,
    logger: logger.child('peers'),
  });
  let face: HttpFace | undefined;
  const sessions = new UiSessions({ tag: app.instanceTag, ...(secret && { secret }) });
  installLifecycle(
    {
      close: async () => {
        await peers.close();
        await face?.close();
        await app.close();
      },
      killAllSync: () => app.killAllSync(),
    },
    logger,
    { watchStdin: false, budgetMs: http.shutdownGraceMs + 4_500 },
  );
  options.unguard();
  app.startDownstreams(options.warm ? { cachedAfterMs: WARM_START_DELAY_MS } : {});
  try {
    face = await HttpFace.start({
      peers,
      app,
      http,
      listen,
      logger: logger.child('http'),
      version: packageVersion(),
      guards: (self) => httpGuards(http, self, logger.child('auth')),
      sessions,
      extraRoutes: (self) => [
        ...observabilityRoutes(app, http),
        ...dashboardRoutes(self, http, sessions, logger),
      ],
      onAnswered: (route, status) => app.metrics.countHttp(route, status),
    });
  } catch (error) {
    await peers.close();
    await app.close();
    if (error instanceof HttpError) throw new UsageError(`serve --http: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UsageError(`serve --http: cannot listen on ${options.listen} (${code})`);
    }
    throw error;
  }
  if (redis && advertise === undefined && isWildcard(listen.host)) {
    logger.warn(
      `listening on ${listen.host}: other instances will be told ${face.url}, which they cannot reach; ` +
        'set MCP_COORDINATOR_ADVERTISE_URL to the URL they should use',
    );
  }
  await peers.start(advertise ?? face.url);
  app.watchConfig(options.env);
  // The address a script waits for (the port is real when 0 was asked for), on stderr.
  process.stderr.write(`mcp-coordinator: listening on ${face.url}\n`);
  return new Promise<number>(() => {});
}

/** `/ui/` and its sign-in, which checks a key with the same Authenticator rules as every request. */
function dashboardRoutes(face: HttpFace, http: Config['http'], sessions: UiSessions, logger: Logger) {
  const auth = new Authenticator(http.auth, { resourceUrl: `${face.url}/mcp`, logger: logger.child('ui') });
  return uiRoutes({
    sessions,
    authEnabled: auth.enabled,
    async authenticate(key) {
      const outcome = await auth.authenticate({ authorization: `Bearer ${key}` }, new URL(face.url));
      return outcome.ok ? outcome.principal : new HttpError(outcome.status, outcome.code, outcome.message);
    },
  });
}

/** `$MCP_COORDINATOR_ADVERTISE_URL`: where the other instances reach this one (else the bound address). */
async function advertiseUrl(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const raw = env.MCP_COORDINATOR_ADVERTISE_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`MCP_COORDINATOR_ADVERTISE_URL: "${raw}" is not a URL (e.g. http://10.0.0.5:8766)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `MCP_COORDINATOR_ADVERTISE_URL: must be an http:// or https:// URL, not ${url.protocol}//`,
    );
  }
  return url.origin;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}
