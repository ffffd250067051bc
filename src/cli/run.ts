/** argv → command → exit code. Every command builds the app the same way. */
import type { App } from '../app.js';
import { hasWarmCatalog } from '../catalog/cache-location.js';
import { loadConfig, resolveConfigPath } from '../config/index.js';
import { EarlyChildren } from '../downstream/early.js';
import { ConfigError, bareMessage } from '../shared/errors.js';
import { createLogger, parseLogLevel, type Logger } from '../shared/logger.js';
import { StdioServerTransport } from '../shared/stdio-server-transport.js';
import { tapIncoming } from '../server/listen-tap.js';
import type { UpstreamSession } from '../server/session.js';
import { USAGE, UsageError, parseCommandLine, type ParsedArgs } from './args.js';
import { installLifecycle } from './lifecycle.js';
import { printLine } from './output.js';
import { redact } from '../shared/redact.js';
import { homedir } from 'node:os';
import { defaultCacheKeyFile } from '../catalog/cache-key.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    process.stderr.write(`mcp-coordinator: ${redact(bareMessage(error))}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.values.help) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const logger = createLogger({
    level: parseLogLevel(env.MCP_COORDINATOR_LOG_LEVEL ?? (args.command === 'serve' ? 'info' : 'warn')),
  });
  const file = resolveConfigPath(args.values.config, env, process.cwd());
  let loaded;
  try {
    loaded = await loadConfig(file, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mcp-coordinator: bad config: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  if (args.command === 'check') {
    const ids = Object.keys(loaded.config.servers);
    printLine(`${loaded.file}: ok (${ids.length} server${ids.length === 1 ? '' : 's'}: ${ids.join(', ')})`);
    return EXIT.ok;
  }

  // serve, cold: the stdio servers' children first, so they boot while the rest of the
  // coordinator loads (the app, most of the SDK, are imported only now) and the client handshakes.
  // Warm (a catalog saved by an earlier run): the client is answered from it first, and the
  // children start just after. Ten node children booting on two cores would otherwise slow the
  // coordinator's own start-up, and so its answer to `initialize`, several times over.
  const warm = args.command === 'serve' && hasWarmCatalog(loaded.config.cacheDir, loaded.file);
  const early = args.command === 'serve' && !warm ? EarlyChildren.spawn(loaded.config.servers) : undefined;
  const unguard = early ? guardEarly(early) : () => {};
  let app: App;
  try {
    const { App } = await import('../app.js');
    app = await App.create({
      config: loaded.config,
      configFile: loaded.file,
      logger,
      agentId: env.MCP_AGENT_ID || undefined,
      cacheKeyFile: defaultCacheKeyFile(homedir(), env.XDG_CONFIG_HOME),
    });
  } catch (error) {
    early?.killAllSync();
    throw error;
  }
  if (early) app.pool.adoptEarly(early);
  if (args.command === 'serve') return serve(app, logger, env, unguard, warm);

  const finish = installLifecycle(app, logger, { watchStdin: false });
  try {
    // `events` reads the bus only: no downstream is started for it.
    if (args.command !== 'events') app.startDownstreams();
    return await runCommand(app, args);
  } catch (error) {
    process.stderr.write(`mcp-coordinator: ${redact(bareMessage(error))}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  } finally {
    await Promise.race([app.close(), new Promise((r) => setTimeout(r, 4_500).unref())]);
    void finish;
  }
}

async function runCommand(app: App, args: ParsedArgs): Promise<number> {
  const { runAggregate, runCall, runEvents, runHealth, runTools } = await import('./commands.js');
  switch (args.command) {
    case 'tools':
      return runTools(app, args);
    case 'call':
      return runCall(app, args);
    case 'aggregate':
      return runAggregate(app, args);
    case 'health':
      return runHealth(app, args);
    case 'events':
      return runEvents(app, args);
    default:
      throw new UsageError(`${args.command} is not a command`);
  }
}

/**
 * With a warm catalog, how long after `notifications/initialized` the cached servers start: time
 * for the client's first `tools/list` (and prompts, resources), which IDEs send at once, to be
 * answered from the catalog before the children compete for the CPU. A request routed to one of
 * them before then starts it at once; servers the cache does not hold start right away.
 */
export const WARM_START_DELAY_MS = 200;

async function serve(
  app: App,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  unguard: () => void,
  warm: boolean,
): Promise<number> {
  installLifecycle(app, logger, { watchStdin: true });
  unguard();
  // Downstreams are told the same capabilities whoever connects (each request a downstream makes
  // goes to the client whose call caused it), so they start now, not after a handshake.
  app.startDownstreams(warm ? { cachedAfterMs: WARM_START_DELAY_MS } : {});
  const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
  // Both eras: an `initialize` pins a legacy session, an enveloped request a modern one.
  let session: UpstreamSession | undefined;
  const transport = tapIncoming(new StdioServerTransport(), (message) => session?.onIncoming?.(message));
  serveStdio(({ era }) => (session = app.newSession(era)).server, {
    transport,
    onerror: (error) => logger.debug('stdio', { error: error.message }),
  });
  app.watchConfig(env);
  logger.info('serving on stdio');
  // Keep running until the lifecycle ends the process.
  return new Promise<number>(() => {});
}

/**
 * Until the lifecycle takes over, a signal or an exit must not leave the early children behind
 * (they lead their own process groups, so no terminal signal reaches them). Returns the undo.
 */
function guardEarly(early: EarlyChildren): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const kill = () => early.killAllSync();
  const die = (signal: NodeJS.Signals) => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', kill);
  for (const signal of signals) process.on(signal, die);
  return () => {
    process.off('exit', kill);
    for (const signal of signals) process.off(signal, die);
  };
}
