/**
 * Which configured servers a one-shot command needs, decided from the config alone (before any
 * spawn): `call memory__read_graph` starts memory, not the nine others. Unknown names are usage
 * errors with a "did you mean".
 *
 * A server can answer a name when the name starts with one of its namespaces plus the separator:
 * its `prefix`, its group, or its id (`.` → `-`, other characters as the catalog replaces them).
 * This is deliberately generous (a server that turns out not to have the tool costs one spawn);
 * a server exposed unprefixed (`prefix: ""`) can answer anything and is always a candidate.
 */
import type { Config } from '../config/schema.js';
import { closest } from '../config/suggest.js';
import { UsageError } from './args.js';

const BUILTIN_PREFIX = 'coordinator';
/** Built-ins that need no downstream at all (locks, tasks, agents, state, events, cache). */
const NEEDS_ALL = new Set(['health', 'servers', 'aggregate']);

type Servers = Config['servers'];

export function namespacesOf(id: string, server: Servers[string]): string[] {
  const names = [server.prefix, server.group, id.replace(/\./g, '-')].filter(
    (name): name is string => name !== undefined,
  );
  return [...new Set(names.map((name) => name.replace(/[^A-Za-z0-9_-]/gu, '_')))];
}

function enabled(config: Config): [string, Servers[string]][] {
  return Object.entries(config.servers).filter(([, server]) => server.enabled);
}

/**
 * The enabled servers an id or group name stands for; a usage error with a suggestion for an
 * unknown name, and one that says how to enable it for a disabled one.
 */
export function serversNamed(config: Config, name: string, flag: string): string[] {
  const named = Object.hasOwn(config.servers, name)
    ? [name]
    : Object.entries(config.servers)
        .filter(([, server]) => server.group === name)
        .map(([id]) => id);
  if (named.length > 0) {
    const on = named.filter((id) => config.servers[id]?.enabled);
    if (on.length > 0) return on;
    throw new UsageError(
      `${flag}: ${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} disabled ` +
        `(mcp-coordinator enable ${named[0]})`,
    );
  }
  const known = [...Object.keys(config.servers), ...groupsOf(config)];
  const meant = closest(name, known);
  throw new UsageError(
    `${flag}: no server or group "${name}"` +
      (meant ? ` (did you mean "${meant}"?)` : ` (configured: ${known.join(', ') || 'none'})`),
  );
}

function groupsOf(config: Config): string[] {
  return [
    ...new Set(Object.values(config.servers).flatMap((server) => (server.group ? [server.group] : []))),
  ];
}

/**
 * The servers that may answer a call of `name` (with `target` when given). Built-in tools need
 * none, except the routing and status ones.
 */
export function serversForCall(
  config: Config,
  name: string,
  hints: { target?: string; args?: Record<string, unknown> },
): string[] {
  const separator = config.namespace.separator;
  if (name.startsWith(`${BUILTIN_PREFIX}${separator}`)) {
    const builtin = name.slice(BUILTIN_PREFIX.length + separator.length);
    const args = hints.args ?? {};
    if (builtin === 'route' && typeof args['tool'] === 'string') {
      const target = typeof args['target'] === 'string' ? args['target'] : undefined;
      return serversForCall(config, args['tool'], { target });
    }
    if (builtin === 'route' || NEEDS_ALL.has(builtin)) return enabled(config).map(([id]) => id);
    return [];
  }
  const targeted = hints.target === undefined ? undefined : serversNamed(config, hints.target, '--target');
  const candidates = enabled(config)
    .filter(([id, server]) => {
      if (targeted && !targeted.includes(id)) return false;
      if (server.prefix === '') return true;
      return namespacesOf(id, server).some((ns) => name.startsWith(`${ns}${separator}`));
    })
    .map(([id]) => id);
  if (candidates.length > 0) return candidates;
  throw new UsageError(unknownTool(config, name, targeted));
}

function unknownTool(config: Config, name: string, targeted: string[] | undefined): string {
  const separator = config.namespace.separator;
  const at = name.indexOf(separator);
  const namespaces = [BUILTIN_PREFIX, ...enabled(config).flatMap(([id, server]) => namespacesOf(id, server))];
  const where = targeted ? ` on ${targeted.join(', ')}` : '';
  const disabled = Object.entries(config.servers).find(
    ([id, server]) =>
      !server.enabled && namespacesOf(id, server).some((ns) => name.startsWith(`${ns}${separator}`)),
  );
  if (disabled) return `${name}: server ${disabled[0]} is disabled (mcp-coordinator enable ${disabled[0]})`;
  if (at > 0) {
    const meant = closest(name.slice(0, at), namespaces);
    if (meant) return `unknown tool "${name}"${where} (did you mean "${meant}${name.slice(at)}"?)`;
  }
  return `unknown tool "${name}"${where}: tool names are NAMESPACE${separator}TOOL, namespaces: ${[...new Set(namespaces)].join(', ')} (see mcp-coordinator tools)`;
}

/** A config with only the given servers (the rest are not started or even built). */
export function onlyServers(config: Config, ids: readonly string[]): Config {
  const keep = new Set(ids);
  return {
    ...config,
    servers: Object.fromEntries(Object.entries(config.servers).filter(([id]) => keep.has(id))),
  };
}
