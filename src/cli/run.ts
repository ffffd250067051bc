/**
 * argv → command → exit code. Everything a user can get wrong on the command line (argv, the
 * `--args` file, server and tool names, the config) is checked before any server is spawned;
 * then only the servers the command needs are built and started.
 */
import path from 'node:path';
import type { App } from '../app.js';
import { hasWarmCatalog } from '../catalog/cache-location.js';
import { loadConfig, resolveConfigPath, type Config, type LoadedConfig } from '../config/index.js';
import { EarlyChildren } from '../downstream/early.js';
import { ConfigError, bareMessage } from '../shared/errors.js';
import { createLogger, parseLogLevel, type Logger } from '../shared/logger.js';
import { StdioServerTransport } from '../shared/stdio-server-transport.js';
import { LISTEN_METHODS, tapIncoming } from '../server/listen-tap.js';
import type { UpstreamSession } from '../server/session.js';
import { homedir } from 'node:os';
import { defaultCacheKeyFile } from '../catalog/cache-key.js';
import { redact } from '../shared/redact.js';
import { UsageError, type ParsedArgs } from './args.js';
import { EXIT, reportUsageError, type RunIO } from './entry.js';
import { editServers, type ServerEdit } from './edit.js';
import { writeStarter } from './init.js';
import type { CommandInputs } from './inputs.js';
import { installLifecycle } from './lifecycle.js';
import { packageVersion } from './version.js';
import { printLine, printNote } from './output.js';
import { commandWarnings } from './preflight.js';
import { onlyServers, serversForCall, serversNamed } from './select.js';
import { isRedisConfigured } from '../coordination/redis-target.js';

export async function runParsed(
  args: ParsedArgs,
  inputs: CommandInputs,
  env: NodeJS.ProcessEnv,
  io: RunIO,
): Promise<number> {
  try {
    return await runChecked(args, inputs, env, io);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError(error);
    if (error instanceof ConfigError) {
      process.stderr.write(`mcp-coordinator: bad config: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

async function runChecked(
  args: ParsedArgs,
  inputs: CommandInputs,
  env: NodeJS.ProcessEnv,
  io: RunIO,
): Promise<number> {
  const file = resolveConfigPath(args.values.config, env, io.cwd);

  if (args.command === 'init') {
    await writeStarter(file, args.values.force === true);
    printLine(`wrote ${file}; try: mcp-coordinator check --config ${file}`);
    return EXIT.ok;
  }
  const edit = serverEdit(args);
  if (edit) {
    printLine(await editServers(file, env, edit));
    return EXIT.ok;
  }

  const loaded = withCacheDir(await loadConfig(file, env), env);
  for (const warning of loaded.warnings ?? []) printNote(`warning: ${warning}`);
  if (args.command === 'check') return check(loaded, env);
  if (args.command === 'servers') {
    const { runServers } = await import('./servers.js');
    return runServers(loaded, args.values.json === true);
  }
  const shared = loaded.config.coordination;
  // Without Redis, PostgreSQL's record can still be read back (not followed: nothing live here).
  const readable = isRedisConfigured(shared.redis) || (shared.postgres.trim() !== '' && !args.values.follow);
  if (args.command === 'events' && !readable) {
    printNote(
      `events needs a shared bus: ${loaded.file}: coordination.redis is empty, so events live in ` +
        'the embedded bus of each coordinator process and this process cannot see them. Set ' +
        'coordination.redis (or REDIS_URL), or coordination.postgres to read the durable record, ' +
        'or call coordinator__events from the client of a running coordinator.',
    );
    return EXIT.usage;
  }
  const config = selectServers(loaded.config, args, inputs);
  return runApp(args, inputs, { ...loaded, config }, env);
}

/**
 * `$MCP_COORDINATOR_CACHE_DIR` places the warm catalog when the config does not say (`cacheDir`):
 * a container keeps it in its data volume while the config folder may be read-only.
 */
function withCacheDir(loaded: LoadedConfig, env: NodeJS.ProcessEnv): LoadedConfig {
  const dir = env.MCP_COORDINATOR_CACHE_DIR;
  if (!dir || loaded.config.cacheDir !== undefined) return loaded;
  return { ...loaded, config: { ...loaded.config, cacheDir: path.resolve(dir) } };
}

function check(loaded: LoadedConfig, env: NodeJS.ProcessEnv): number {
  const ids = Object.keys(loaded.config.servers);
  for (const warning of commandWarnings(loaded.config, env)) printNote(`warning: ${warning}`);
  printLine(`${loaded.file}: ok (${ids.length} server${ids.length === 1 ? '' : 's'}: ${ids.join(', ')})`);
  return EXIT.ok;
}

function serverEdit(args: ParsedArgs): ServerEdit | undefined {
  const id = args.positionals[0] ?? '';
  switch (args.command) {
    case 'add': {
      const [command, ...rest] = args.afterDashes;
      const entry =
        args.values.url !== undefined ? { url: args.values.url } : { command: command!, args: rest };
      return { kind: 'add', id, entry };
    }
    case 'remove':
    case 'enable':
    case 'disable':
      return { kind: args.command, id };
    default:
      return undefined;
  }
}

/** The config narrowed to the servers the command needs (all of them for serve and health). */
function selectServers(config: Config, args: ParsedArgs, inputs: CommandInputs): Config {
  switch (args.command) {
    case 'tools': {
      const [server] = args.positionals;
      return server === undefined ? config : onlyServers(config, serversNamed(config, server, 'tools'));
    }
    case 'call': {
      const name = args.positionals[0]!;
      return onlyServers(
        config,
        serversForCall(config, name, { target: args.values.target, args: inputs.args }),
      );
    }
    case 'aggregate': {
      if (!inputs.targets) return config;
      const ids = inputs.targets.flatMap((t) => serversNamed(config, t, '--targets'));
      return onlyServers(config, ids);
    }
    case 'events':
      return onlyServers(config, []);
    default:
      return config;
  }
}

async function runApp(
  args: ParsedArgs,
  inputs: CommandInputs,
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const logger = createLogger({
    level: parseLogLevel(env.MCP_COORDINATOR_LOG_LEVEL ?? (args.command === 'serve' ? 'info' : 'warn')),
  });
  const serving = args.command === 'serve';
  // serve, cold: the stdio servers' children first, so they boot while the rest of the
  // coordinator loads (the app, most of the SDK, are imported only now) and the client handshakes.
  // Warm (a catalog saved by an earlier run): the client is answered from it first, and the
  // children start just after. Ten node children booting on two cores would otherwise slow the
  // coordinator's own start-up, and so its answer to `initialize`, several times over.
  const warm = serving && hasWarmCatalog(loaded.config.cacheDir, loaded.file);
  const early = serving && !warm ? EarlyChildren.spawn(loaded.config.servers) : undefined;
  const unguard = early ? guardEarly(early) : () => {};
  let app: App;
  // Only when an OTLP endpoint is configured is anything of tracing loaded.
  const tracer =
    serving && (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT)
      ? (await import('../observability/tracing.js')).Tracer.fromEnv(env, {
          serviceName: env.OTEL_SERVICE_NAME || 'mcp-coordinator',
          serviceVersion: packageVersion(),
          logger: logger.child('tracing'),
        })
      : undefined;
  try {
    const { App } = await import('../app.js');
    app = await App.create({
      config: loaded.config,
      configFile: loaded.file,
      logger,
      agentId: env.MCP_AGENT_ID || undefined,
      cacheKeyFile: defaultCacheKeyFile(homedir(), env.XDG_CONFIG_HOME),
      announce: serving,
      ...(tracer && { tracer }),
    });
  } catch (error) {
    early?.killAllSync();
    throw error;
  }
  if (early) app.pool.adoptEarly(early);
  const httpListen = args.values.http ?? loaded.config.http.listen;
  if (serving && httpListen !== undefined) {
    const { serveHttp } = await import('./serve-http.js');
    return serveHttp(app, {
      logger,
      env,
      unguard,
      warm,
      listen: httpListen,
      http: loaded.config.http,
      coordination: loaded.config.coordination,
    });
  }
  if (serving) return serve(app, logger, env, unguard, warm);

  const finish = installLifecycle(app, logger, { watchStdin: false });
  try {
    // The config holds only the servers this command needs (none for `events`).
    app.startDownstreams();
    return await runCommand(app, args, inputs);
  } catch (error) {
    process.stderr.write(`mcp-coordinator: ${redact(bareMessage(error))}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  } finally {
    await Promise.race([app.close(), new Promise((r) => setTimeout(r, 4_500).unref())]);
    void finish;
  }
}

async function runCommand(app: App, args: ParsedArgs, inputs: CommandInputs): Promise<number> {
  const { runAggregate, runCall, runEvents, runHealth, runTools } = await import('./commands.js');
  switch (args.command) {
    case 'tools':
      return runTools(app, args);
    case 'call':
      return runCall(app, args, inputs);
    case 'aggregate':
      return runAggregate(app, args, inputs);
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
  const transport = tapIncoming(new StdioServerTransport(), LISTEN_METHODS, (message) =>
    session?.onIncoming?.(message),
  );
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
