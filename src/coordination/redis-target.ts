/**
 * Where the shared Redis is: one node by URL, a Cluster by its seed URLs, or a master found
 * through Sentinel. Plain data, no ioredis: the embedded-bus path imports this without loading
 * the driver (see redis-connect.ts for the one place a connection is opened).
 */
import { InvalidArgumentError } from '../shared/errors.js';

export interface RedisClusterTarget {
  /** Seed nodes, `redis://[user:password@]host:port` (`rediss://` for TLS); credentials from the first. */
  readonly cluster: readonly string[];
}

export interface RedisSentinelTarget {
  /** Sentinels as `host:port` or `redis[s]://[user:password@]host:port` (the sentinels' own auth). */
  readonly sentinels: readonly string[];
  /** The master group name the sentinels monitor. */
  readonly name: string;
  /** The master's (and replicas') password. */
  readonly password?: string | undefined;
}

/** A URL (empty: no Redis, the embedded bus), a Cluster, or a Sentinel group. */
export type RedisTarget = string | RedisClusterTarget | RedisSentinelTarget;

export function isRedisConfigured(target: RedisTarget | undefined): target is RedisTarget {
  if (target === undefined) return false;
  return typeof target === 'string' ? target.trim() !== '' : true;
}

export function isClusterTarget(target: RedisTarget): target is RedisClusterTarget {
  return typeof target === 'object' && 'cluster' in target;
}

export function isSentinelTarget(target: RedisTarget): target is RedisSentinelTarget {
  return typeof target === 'object' && 'sentinels' in target;
}

/**
 * The key prefix the coordination store uses on this target. On a Cluster every coordination key
 * carries one hash tag (`mcp:` → `{mcp}:`), so each Lua script — a claim that checks the task
 * hash and locks several files, a batch lock lookup — touches a single slot. A prefix that already
 * has a tag is kept. On one node or Sentinel the prefix is unchanged (the contract's layout).
 */
export function storeKeyPrefix(target: RedisTarget, prefix: string): string {
  return isClusterTarget(target) ? hashTaggedPrefix(prefix) : prefix;
}

export function hashTaggedPrefix(prefix: string): string {
  if (/\{[^}]+\}/.test(prefix)) return prefix;
  const match = /^(.*?)(:*)$/.exec(prefix)!;
  const name = match[1] === '' ? 'mcp' : match[1]!;
  return `{${name}}${match[2] || ':'}`;
}

/** `host:port` parts of a redis:// or rediss:// URL (or a bare `host:port`), with its credentials. */
export interface RedisEndpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
}

export function parseEndpoint(text: string, what: string): RedisEndpoint {
  const url = text.includes('://') ? text : `redis://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidArgumentError(`${what}: does not parse (expected redis://host:port or host:port)`, {
      cause: error,
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`${what}: must use redis:// or rediss://, not ${parsed.protocol}//`);
  }
  if (parsed.hostname === '') throw new InvalidArgumentError(`${what}: has no host`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    tls: parsed.protocol === 'rediss:',
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** Passwords the target carries, for the log redactor. */
export function targetSecrets(target: RedisTarget): string[] {
  const urls =
    typeof target === 'string'
      ? [target]
      : isClusterTarget(target)
        ? [...target.cluster]
        : [...target.sentinels];
  const out: string[] = [];
  for (const url of urls) {
    try {
      const password = new URL(url.includes('://') ? url : `redis://${url}`).password;
      if (password) out.push(decodeURIComponent(password));
    } catch {
      // Not a URL: the schema's business, not the redactor's.
    }
  }
  if (isSentinelTarget(target) && target.password) out.push(target.password);
  return out;
}

/** A description safe to log: hosts only, never credentials. */
export function describeTarget(target: RedisTarget): string {
  const hosts = (urls: readonly string[]) =>
    urls
      .map((u) => {
        try {
          const e = parseEndpoint(u, 'redis');
          return `${e.host}:${e.port}`;
        } catch {
          return '?';
        }
      })
      .join(',');
  if (typeof target === 'string') return target.startsWith('/') ? target : hosts([target]);
  if (isClusterTarget(target)) return `cluster ${hosts(target.cluster)}`;
  return `sentinel ${target.name}@${hosts(target.sentinels)}`;
}
