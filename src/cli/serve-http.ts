/**
 * `serve --http`: the core served to many clients over HTTP. stdin is not the protocol here (it
 * is not watched: a service has none); signals end it, after the calls in flight finished.
 */
import type { App } from '../app.js';
import type { Config } from '../config/schema.js';
import { parseListen } from '../http/address.js';
import { HttpFace } from '../http/face.js';
import { httpGuards } from '../http/guards.js';
import { observabilityRoutes } from '../http/observability-routes.js';
import { HttpError } from '../http/respond.js';
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
}

export async function serveHttp(app: App, options: ServeHttpOptions): Promise<number> {
  const { logger, http } = options;
  const listen = parseListen(options.listen);
  let face: HttpFace | undefined;
  installLifecycle(
    {
      close: async () => {
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
      app,
      http,
      listen,
      logger: logger.child('http'),
      version: packageVersion(),
      guards: (self) => httpGuards(http, self, logger.child('auth')),
      extraRoutes: () => observabilityRoutes(app, http),
      onAnswered: (route, status) => app.metrics.countHttp(route, status),
    });
  } catch (error) {
    await app.close();
    if (error instanceof HttpError) throw new UsageError(`serve --http: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UsageError(`serve --http: cannot listen on ${options.listen} (${code})`);
    }
    throw error;
  }
  app.watchConfig(options.env);
  // The address a script waits for (the port is real when 0 was asked for), on stderr.
  process.stderr.write(`mcp-coordinator: listening on ${face.url}\n`);
  return new Promise<number>(() => {});
}
