/**
 * Claude Desktop style files: `{ "mcpServers": { id: { command, args, env, cwd?, url?,
 * type?|transport?, headers?, disabled? } } }`, as written for Claude Desktop, Cursor, Cline and
 * friends, converted to the servers.yml shape so one schema validates both.
 *
 * Choices, where those clients differ from servers.yml:
 * - `type` (or `transport`): "stdio" → a stdio server; "http" | "streamable-http" |
 *   "streamableHttp" → `transport: streamable-http`; "sse" → `transport: sse`. A type that
 *   contradicts command/url is an error, never guessed around.
 * - `disabled: true` → `enabled: false`.
 * - `autoApprove` / `alwaysAllow` (the client's tool-approval lists) are dropped: the
 *   coordinator prompts nobody, the IDE in front of it still does.
 * - Any other key inside a server is an error, as in servers.yml (a typo must not be ignored);
 *   the coordinator's own per-server keys (prefix, group, tools, timeoutMs, …) are accepted.
 * - Top level: the coordinator's own sections (routing, namespace, health, coordination,
 *   cacheDir) are honoured next to `mcpServers`; other top-level keys are ignored, because a
 *   real `claude_desktop_config.json` also holds the app's own settings (`globalShortcut`, …).
 *   `servers` next to `mcpServers` is an error: which list was meant?
 *
 * Errors keep the file's own names: a bad `type` is reported as `mcpServers.x.type`.
 */
import { configSchema } from './schema.js';
import type { KeyPath, Problem } from './source-map.js';

export interface ConvertedDesktopConfig {
  /** The same content in the servers.yml shape, ready for `configSchema`. */
  readonly data: Record<string, unknown>;
  /** Problems the conversion itself found, in the file's own key paths. */
  readonly problems: Problem[];
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

export function isDesktopConfig(data: unknown): data is Record<string, unknown> {
  return isPlainObject(data) && 'mcpServers' in data;
}

export function fromDesktopConfig(input: Record<string, unknown>): ConvertedDesktopConfig {
  const problems: Problem[] = [];
  /** Per server: servers.yml key → the key the file used (transport → type, enabled → disabled). */
  const renames = new Map<string, Map<string, string>>();

  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'servers') {
      problems.push({
        path: ['servers'],
        detail: 'use either servers (servers.yml) or mcpServers, not both',
      });
    } else if (SECTIONS.has(key)) {
      data[key] = value;
    }
  }

  const servers = input['mcpServers'];
  if (!isPlainObject(servers)) {
    data['servers'] = servers; // the schema reports it as "must be a map"
  } else {
    const converted: Record<string, unknown> = {};
    for (const [id, entry] of Object.entries(servers)) {
      if (!isPlainObject(entry)) {
        converted[id] = entry;
        continue;
      }
      const renamed = new Map<string, string>();
      converted[id] = convertServer(entry, ['mcpServers', id], renamed, problems);
      renames.set(id, renamed);
    }
    data['servers'] = converted;
  }

  return {
    data,
    problems,
    toSourcePath(path) {
      if (path[0] !== 'servers') return path;
      const [, id, key, ...rest] = path;
      const renamed = typeof key === 'string' ? renames.get(String(id))?.get(key) : undefined;
      if (id === undefined) return ['mcpServers'];
      if (key === undefined) return ['mcpServers', id];
      return ['mcpServers', id, renamed ?? key, ...rest];
    },
  };
}

function convertServer(
  entry: Record<string, unknown>,
  at: KeyPath,
  renamed: Map<string, string>,
  problems: Problem[],
): Record<string, unknown> {
  const server: Record<string, unknown> = {};
  let typeKey: string | undefined;
  for (const [key, value] of Object.entries(entry)) {
    if (DROPPED.has(key)) continue;
    if (key === 'type' || key === 'transport') {
      if (typeKey !== undefined) {
        problems.push({ path: [...at, key], detail: `use either type or transport, not both` });
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
      } else if (entry['url'] === undefined) {
        problems.push({ path: [...at, key], detail: `type "${String(value)}" needs url` });
      } else {
        server['transport'] = kind;
        renamed.set('transport', key);
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
    } else {
      server[key] = value;
    }
  }
  return server;
}
