/**
 * The single way any command gets a validated `Config`: find the file, read it, parse it with
 * line numbers, expand `${VAR}`, accept Claude Desktop's `mcpServers` shape, validate with the
 * schema, check cross references, resolve relative paths. Every failure is one `ConfigError`
 * naming the file, the 1-based line and the key path.
 *
 * When several things are wrong, the one written first in the file is reported (ties: syntax,
 * then `${VAR}`, then the Claude Desktop conversion, then the schema), so fixing errors top to
 * bottom always works. Cross-reference checks run only once the schema passed.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../shared/errors.js';
import { markSecret } from '../shared/redact.js';
import { targetSecrets } from '../coordination/redis-target.js';
import { checkConfig } from './checks.js';
import { fromDesktopConfig, isDesktopConfig } from './claude-desktop.js';
import { expandDocument, type Env } from './expand.js';
import { describeIssue } from './issues.js';
import { configSchema, isStdio, type Config } from './schema.js';
import { formatPath, SourceMap, type KeyPath, type Problem } from './source-map.js';

export const CONFIG_ENV_VAR = 'MCP_COORDINATOR_CONFIG';
export const DEFAULT_CONFIG_FILE = 'servers.yml';

export interface LoadedConfig {
  readonly config: Config;
  /** The absolute path of the file that was read. */
  readonly file: string;
  /** The file's folder: relative paths in the config were resolved against it. */
  readonly baseDir: string;
  /** What was accepted but changed on the way (a normalised id, an ignored key): tell the user. */
  readonly warnings?: readonly string[];
}

/**
 * `--config`, else `$MCP_COORDINATOR_CONFIG`, else `<cwd>/servers.yml`, made absolute against
 * `cwd`. An empty flag or variable counts as not given (`MCP_COORDINATOR_CONFIG=` in a shell).
 */
export function resolveConfigPath(flag: string | undefined, env: Env, cwd: string): string {
  return path.resolve(cwd, flag || env[CONFIG_ENV_VAR] || DEFAULT_CONFIG_FILE);
}

/** Reads and validates the config file. A missing or unreadable file is a `ConfigError` too. */
export async function loadConfig(file: string, env: Env): Promise<LoadedConfig> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readRegularFile(absolute);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(absolute, undefined, '', readFailure(error));
  }
  const warnings: string[] = [];
  const config = parseConfigText(text, absolute, env, warnings);
  return { config, file: absolute, baseDir: path.dirname(absolute), warnings };
}

/**
 * Reads a config file only if it is a regular file: a FIFO would block the read until someone
 * writes to it (forever, for `check`), a device would never end. Opened non-blocking, and the
 * open handle is checked, so what is read is what was checked.
 */
async function readRegularFile(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!stat.isFile()) {
      const kind = stat.isFIFO() ? 'a FIFO (named pipe)' : stat.isSocket() ? 'a socket' : 'a device';
      throw new ConfigError(file, undefined, '', `is ${kind}, not a regular file: refusing to read it`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Validates config text; `file` names it in errors and anchors relative paths. JSON is parsed
 * by the same YAML parser (JSON is YAML 1.2), so JSON errors carry line numbers too.
 */
export function parseConfigText(text: string, file: string, env: Env, warnings: string[] = []): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(doc, lineCounter, text);

  const syntax = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (syntax) {
    // Only a duplicate key sits at a known key; other syntax errors are often noticed a line or
    // more after the culprit (an unclosed `[`), where naming a key would mislead.
    const where = syntax.pos[0];
    const key = syntax.code === 'DUPLICATE_KEY' ? formatPath(source.pathAt(where)) : '';
    throw new ConfigError(file, source.lineAt(where), key, syntaxDetail(syntax));
  }

  const baseDir = path.dirname(path.resolve(file));
  const problems = [
    ...reservedIds(source),
    ...expandDocument(source, isClientFile(doc) ? clientVariables(baseDir, env) : env),
  ];
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // e.g. too many aliases (the "billion laughs" guard)
    throw new ConfigError(file, 1, '', error instanceof Error ? error.message : String(error));
  }

  let toSourcePath = (keyPath: KeyPath): KeyPath => keyPath;
  if (isDesktopConfig(data)) {
    const converted = fromDesktopConfig(data, baseDir);
    data = converted.data;
    toSourcePath = converted.toSourcePath;
    problems.push(...converted.problems);
    warnings.push(...converted.warnings);
  }

  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const context = { data, textOf: (keyPath: KeyPath) => source.textOf(toSourcePath(keyPath)) };
    for (const issue of parsed.error.issues) {
      const problem = describeIssue(issue, context);
      problems.push({ path: toSourcePath(problem.path), detail: problem.detail });
    }
  }
  throwFirst(problems, source, file);
  if (!parsed.success) throw new ConfigError(file, undefined, '', parsed.error.message); // unreachable

  const crossProblems = checkConfig(parsed.data).map((problem) => ({
    ...problem,
    path: toSourcePath(problem.path),
  }));
  throwFirst(crossProblems, source, file);

  markConfiguredSecrets(parsed.data);
  return resolvePaths(parsed.data, baseDir);
}

/** Another client's file (looked at before `${VAR}` expansion, which depends on it)? */
function isClientFile(doc: ReturnType<typeof parseDocument>): boolean {
  try {
    return isDesktopConfig(doc.toJS());
  } catch {
    return false; // the alias guard: reported below, where the data is built
  }
}

/**
 * The variables Cursor and VS Code files use besides the environment: `${workspaceFolder}` (the
 * folder holding `.cursor/` or `.vscode/`, else the file's own folder) and `${userHome}`. A real
 * environment variable of the same name wins.
 */
function clientVariables(baseDir: string, env: Env): Env {
  const inEditorFolder = ['.cursor', '.vscode'].includes(path.basename(baseDir));
  const workspaceFolder = inEditorFolder ? path.dirname(baseDir) : baseDir;
  return {
    workspaceFolder,
    workspaceFolderBasename: path.basename(workspaceFolder),
    userHome: env['HOME'] ?? env['USERPROFILE'],
    pathSeparator: path.sep,
    ...env,
  };
}

/**
 * Values that are credentials whether or not they came from `${VAR}`: the values of credential
 * headers (and the token after an auth scheme), the event secret, the Redis password, the HTTP API keys. From now on `shared/redact`
 * never lets them out.
 */
/** Headers that carry credentials (not Accept, Content-Type, User-Agent …). */
const CREDENTIAL_HEADER = /auth|token|key|secret|cookie|session|password|credential|signature/i;

function markConfiguredSecrets(config: Config): void {
  for (const server of Object.values(config.servers)) {
    if (isStdio(server)) continue;
    for (const [name, value] of Object.entries(server.headers)) {
      if (!CREDENTIAL_HEADER.test(name)) continue;
      markSecret(value);
      markSecret(/^\S+\s+(\S+)$/.exec(value)?.[1]);
    }
  }
  markSecret(config.coordination.secret);
  for (const secret of targetSecrets(config.coordination.redis)) markSecret(secret);
  // The HTTP face's API keys, written literally or through ${VAR}: never in a log or an error.
  for (const key of config.http.auth?.keys ?? []) markSecret(key.key);
}

/**
 * Relative paths mean "relative to the config file", wherever the coordinator is started:
 * - a stdio server's `cwd` is resolved against the file's folder, and a stdio server without
 *   `cwd` runs IN that folder, so relative args (`node_modules/x/dist/index.js`) just work;
 * - `coordination.workspaceRoot` likewise, defaulting to the file's folder;
 * - a non-empty `cacheDir` likewise (absent stays absent: its default is the cache's call).
 * `args` are passed through untouched: the server resolves them against its cwd.
 */
function resolvePaths(config: Config, baseDir: string): Config {
  const servers = Object.fromEntries(
    Object.entries(config.servers).map(([id, server]) => [
      id,
      withDotlessPrefix(
        id,
        isStdio(server) ? { ...server, cwd: path.resolve(baseDir, server.cwd ?? '.') } : server,
      ),
    ]),
  );
  return {
    ...config,
    servers,
    coordination: {
      ...config.coordination,
      workspaceRoot: path.resolve(baseDir, config.coordination.workspaceRoot ?? '.'),
    },
    ...(config.cacheDir ? { cacheDir: path.resolve(baseDir, config.cacheDir) } : {}),
  };
}

/**
 * Ids that name a property every JavaScript object has: `__proto__` would vanish when the file is
 * turned into objects (a server silently dropped), the others would shadow built-ins in lookups.
 */
const RESERVED_IDS = new Set(['__proto__', 'constructor', 'prototype']);

function reservedIds(source: SourceMap): Problem[] {
  return ['servers', 'mcpServers'].flatMap((top) =>
    source
      .keysAt([top])
      .filter((id) => RESERVED_IDS.has(id))
      .map((id) => ({
        path: [top, id],
        detail: `"${id}" cannot be a server id (a reserved JavaScript name); rename it`,
      })),
  );
}

/** An id with `.` (`brave.search`) is exposed under `brave-search__` unless prefix or group say otherwise. */
function withDotlessPrefix<S extends Config['servers'][string]>(id: string, server: S): S {
  if (!id.includes('.') || server.prefix !== undefined || server.group !== undefined) return server;
  return { ...server, prefix: id.replace(/\./g, '-') };
}

/** Throws the problem written first in the file (stable for equal lines), if any. */
function throwFirst(problems: readonly Problem[], source: SourceMap, file: string): void {
  let first: { problem: Problem; line: number } | undefined;
  for (const problem of problems) {
    const line = problem.line ?? source.lineOf(problem.path);
    if (first === undefined || line < first.line) first = { problem, line };
  }
  if (first) throw new ConfigError(file, first.line, formatPath(first.problem.path), first.problem.detail);
}

function syntaxDetail(error: { code: string; message: string }): string {
  if (error.code === 'DUPLICATE_KEY') return 'duplicate key (each key may appear only once in a map)';
  if (error.code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (---): keep one';
  return `invalid YAML/JSON: ${error.message.split('\n')[0]}`;
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return `config file not found (pass --config FILE or set ${CONFIG_ENV_VAR})`;
  if (code === 'EISDIR') return 'is a directory, not a config file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the config file: permission denied';
  return `cannot read the config file: ${error instanceof Error ? error.message : String(error)}`;
}
