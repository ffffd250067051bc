/**
 * Other clients' files, converted to the servers.yml shape so one schema validates both:
 * Claude Desktop, Cursor, Cline, Windsurf (`{ "mcpServers": { id: { … } } }`) and VS Code
 * (`{ "servers": { id: { "type": …, … } }, "inputs": [ … ] }`).
 *
 * Choices, where those clients differ from servers.yml:
 * - An id outside [A-Za-z0-9_.-] (`brave search`) is normalised (runs of other characters → `-`)
 *   with a warning naming both; a clash with another id gets `-2`, `-3`.
 * - `type` (or `transport`): "stdio" → a stdio server; "http" | "streamable-http" |
 *   "streamableHttp" → `transport: streamable-http`; "sse" → `transport: sse`. A type that
 *   contradicts command/url is an error, never guessed around.
 * - `transportType` (older Cline files) is `type`.
 * - `serverUrl` (Windsurf) is `url`. A URL without a type whose path ends in `/sse` is taken as
 *   legacy SSE (what every one of these clients' docs means by such a URL); any other as
 *   Streamable HTTP.
 * - `disabled: true` → `enabled: false`.
 * - `timeout` (Cline, seconds) → `timeoutMs`.
 * - `envFile` (Cursor, VS Code): KEY=VALUE lines read from that file (relative to the config's
 *   folder), under the server's own `env`; a missing file is a warning and is skipped.
 * - `autoApprove` / `alwaysAllow` (the client's tool-approval lists) are dropped with a note: the
 *   coordinator prompts nobody, the IDE in front of it still does.
 * - Any other key inside a server is an error, as in servers.yml (a typo must not be ignored);
 *   the coordinator's own per-server keys (prefix, group, tools, timeoutMs, …) are accepted.
 * - Top level: the coordinator's own sections (routing, namespace, health, coordination,
 *   cacheDir) are honoured next to the server map; other top-level keys (`inputs`, Claude
 *   Desktop's `globalShortcut`, …) are ignored. `servers` next to `mcpServers` is an error.
 * - `${input:ID}` (a VS Code prompt) cannot be answered by a coordinator: the expander reports it
 *   with what to write instead.
 *
 * Errors keep the file's own names: a bad `type` is reported as `mcpServers.x.type`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, SERVER_ID } from './schema.js';
import type { KeyPath, Problem } from './source-map.js';

export interface ConvertedDesktopConfig {
  /** The same content in the servers.yml shape, ready for `configSchema`. */
  readonly data: Record<string, unknown>;
  /** Problems the conversion itself found, in the file's own key paths. */
  readonly problems: Problem[];
  /** Things honoured differently from what the file says, worth telling the user. */
  readonly warnings: string[];
  /** Maps a servers.yml key path back to the key path written in the file. */
  toSourcePath(path: KeyPath): KeyPath;
}

const TYPES: Readonly<Record<string, 'stdio' | 'streamable-http' | 'sse'>> = {
  stdio: 'stdio',
  http: 'streamable-http',
  'streamable-http': 'streamable-http',
  streamableHttp: 'streamable-http',
  sse: 'sse',
};
const DROPPED = new Set(['autoApprove', 'alwaysAllow']);
const SECTIONS = new Set(Object.keys(configSchema.shape).filter((key) => key !== 'servers'));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which key holds the servers of a client's file, or undefined for a servers.yml. */
export function clientServersKey(data: unknown): 'mcpServers' | 'servers' | undefined {
  if (!isPlainObject(data)) return undefined;
  if ('mcpServers' in data) return 'mcpServers';
  const servers = data['servers'];
  // VS Code's mcp.json: `servers` whose entries say their `type`, usually next to `inputs`.
  if (
    isPlainObject(servers) &&
    ('inputs' in data || Object.values(servers).some((s) => isPlainObject(s) && 'type' in s))
  ) {
    return 'servers';
  }
  return undefined;
}

export function isDesktopConfig(data: unknown): data is Record<string, unknown> {
  return clientServersKey(data) !== undefined;
}

export function fromDesktopConfig(input: Record<string, unknown>, baseDir = '.'): ConvertedDesktopConfig {
  const key = clientServersKey(input) ?? 'mcpServers';
  const problems: Problem[] = [];
  const warnings: string[] = [];
  /** Per server: servers.yml key → the key the file used (transport → type, enabled → disabled). */
  const renames = new Map<string, Map<string, string>>();
  /** Normalised id → the id written in the file. */
  const originalIds = new Map<string, string>();

  const data: Record<string, unknown> = {};
  for (const [topKey, value] of Object.entries(input)) {
    if (topKey === 'servers' && key === 'mcpServers') {
      problems.push({
        path: ['servers'],
        detail: 'use either servers (servers.yml) or mcpServers, not both',
      });
    } else if (SECTIONS.has(topKey)) {
      data[topKey] = value;
    }
  }

  const servers = input[key];
  if (!isPlainObject(servers)) {
    data['servers'] = servers; // the schema reports it as "must be a map"
  } else {
    const converted: Record<string, unknown> = {};
    const dropped = new Set<string>();
    for (const [written, entry] of Object.entries(servers)) {
      const id = uniqueId(normaliseId(written), servers, converted);
      originalIds.set(id, written);
      if (id !== written) warnings.push(`${key}."${written}": server id "${written}" is used as "${id}"`);
      if (!isPlainObject(entry)) {
        converted[id] = entry;
        continue;
      }
      const renamed = new Map<string, string>();
      const context = { at: [key, written], renamed, problems, warnings, baseDir, dropped };
      converted[id] = convertServer(entry, context);
      renames.set(id, renamed);
    }
    if (dropped.size > 0) {
      warnings.push(
        `${[...dropped].join(', ')} ignored: the coordinator asks nobody; the client in front of it still asks for approval`,
      );
    }
    data['servers'] = converted;
  }

  return {
    data,
    problems,
    warnings,
    toSourcePath(keyPath) {
      if (keyPath[0] !== 'servers') return keyPath;
      const [, id, field, ...rest] = keyPath;
      if (id === undefined) return [key];
      const written = originalIds.get(String(id)) ?? id;
      if (field === undefined) return [key, written];
      const renamed = typeof field === 'string' ? renames.get(String(id))?.get(field) : undefined;
      return [key, written, renamed ?? field, ...rest];
    },
  };
}

function normaliseId(id: string): string {
  if (SERVER_ID.test(id)) return id;
  return id.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'server';
}

function uniqueId(id: string, written: Record<string, unknown>, taken: Record<string, unknown>): string {
  let candidate = id;
  for (
    let n = 2;
    Object.hasOwn(taken, candidate) || (candidate !== id && Object.hasOwn(written, candidate));
    n++
  ) {
    candidate = `${id}-${n}`;
  }
  return candidate;
}

interface ServerContext {
  at: KeyPath;
  renamed: Map<string, string>;
  problems: Problem[];
  warnings: string[];
  baseDir: string;
  dropped: Set<string>;
}

function convertServer(entry: Record<string, unknown>, ctx: ServerContext): Record<string, unknown> {
  const { at, renamed, problems } = ctx;
  const server: Record<string, unknown> = {};
  let typeKey: string | undefined;
  const url = entry['url'] ?? entry['serverUrl'];
  for (const [key, value] of Object.entries(entry)) {
    if (DROPPED.has(key)) {
      ctx.dropped.add(key);
    } else if (key === 'type' || key === 'transport' || key === 'transportType') {
      if (typeKey !== undefined) {
        problems.push({ path: [...at, key], detail: `use only one of type, transport, transportType` });
        continue;
      }
      typeKey = key;
      const kind = typeof value === 'string' ? TYPES[value] : undefined;
      if (kind === undefined) {
        const allowed = Object.keys(TYPES)
          .map((name) => `"${name}"`)
          .join(', ');
        problems.push({
          path: [...at, key],
          detail: `must be one of ${allowed} (got ${JSON.stringify(value)})`,
        });
      } else if (kind === 'stdio') {
        if (entry['command'] === undefined) {
          problems.push({ path: [...at, key], detail: `type "${String(value)}" needs command` });
        }
      } else if (url === undefined) {
        problems.push({ path: [...at, key], detail: `type "${String(value)}" needs url` });
      } else {
        server['transport'] = kind;
        renamed.set('transport', key);
      }
    } else if (key === 'serverUrl') {
      if (entry['url'] !== undefined) {
        problems.push({ path: [...at, key], detail: 'use either url or serverUrl, not both' });
      } else {
        server['url'] = value;
        renamed.set('url', key);
      }
    } else if (key === 'disabled') {
      if (typeof value !== 'boolean') {
        problems.push({ path: [...at, key], detail: `must be true or false (got ${JSON.stringify(value)})` });
      } else if (entry['enabled'] !== undefined) {
        problems.push({ path: [...at, key], detail: 'use either disabled or enabled, not both' });
      } else {
        server['enabled'] = !value;
        renamed.set('enabled', key);
      }
    } else if (key === 'timeout') {
      if (typeof value !== 'number' || !(value > 0)) {
        problems.push({
          path: [...at, key],
          detail: `must be a number of seconds (got ${JSON.stringify(value)})`,
        });
      } else if (entry['timeoutMs'] !== undefined) {
        problems.push({ path: [...at, key], detail: 'use either timeout (seconds) or timeoutMs, not both' });
      } else {
        server['timeoutMs'] = Math.round(value * 1000);
        renamed.set('timeoutMs', key);
      }
    } else if (key === 'envFile') {
      if (typeof value !== 'string' || value === '') {
        problems.push({ path: [...at, key], detail: `must be a file path (got ${JSON.stringify(value)})` });
      } else {
        const fromFile = readEnvFile(path.resolve(ctx.baseDir, value), [...at, key], ctx.warnings);
        const own = isPlainObject(entry['env']) ? entry['env'] : {};
        server['env'] = { ...fromFile, ...own };
      }
    } else if (key === 'env' && entry['envFile'] !== undefined) {
      if (!isPlainObject(value)) server['env'] = value; // the schema reports it; envFile merges otherwise
    } else {
      server[key] = value;
    }
  }
  if (typeKey === undefined && typeof url === 'string' && /\/sse\/?$/.test(urlPath(url))) {
    server['transport'] = 'sse';
  }
  return server;
}

function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return ''; // the schema reports a bad URL
  }
}

/** KEY=VALUE lines (dotenv: `#` comments, `export `, quotes); unreadable → a warning, {}. */
function readEnvFile(file: string, at: KeyPath, warnings: string[]): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    warnings.push(`${at.join('.')}: cannot read ${file} (${code}); its variables are not set`);
    return {};
  }
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? '';
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? (quoted[2] ?? '').replace(/\\n/g, '\n') : (quoted[2] ?? '');
    else value = value.replace(/\s+#.*$/, '');
    env[match[1]!] = value;
  }
  return env;
}
