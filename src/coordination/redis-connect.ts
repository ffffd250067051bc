/**
 * The one place a Redis connection is opened (store, bus publisher and subscriber, instance
 * registry, `events --follow`): a single node by URL, a Cluster (`Redis.Cluster`), or a master
 * found through Sentinel. Callers pass the per-connection behaviour (offline queue, retries,
 * timeouts) as RedisOptions; for a Cluster they apply to every node connection, and the Cluster's
 * own offline queue and reconnect strategy follow them.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

import { InvalidArgumentError } from '../shared/errors.js';
import { isClusterTarget, parseEndpoint, type RedisTarget } from './redis-target.js';

export type RedisClient = Redis | Cluster;

export const CLUSTER_DEFAULTS = {
  /** After a MOVED/ASK storm or a failed node, how long before the slot map is asked again. */
  retryDelayOnFailoverMs: 100,
  retryDelayOnClusterDownMs: 100,
  slotsRefreshTimeoutMs: 1_000,
  /**
   * TRYAGAIN (a slot being migrated) is retried this often, at most maxRedirections times in all
   * (MOVED and ASK count too): 8 × 50 ms stays well inside the store's command timeout, so a call
   * ends with the migration error, not a timeout behind which ioredis would still resend it.
   */
  retryDelayOnTryAgainMs: 50,
  maxRedirections: 8,
} as const;

export function openRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  if (typeof target === 'string') {
    assertRedisUrl(target);
    return new Redis(target, options);
  }
  if (isClusterTarget(target)) {
    if (target.cluster.length === 0) throw new InvalidArgumentError('redis.cluster: lists no nodes');
    const nodes = target.cluster.map((url, i) => parseEndpoint(url, `redis.cluster[${i}]`));
    const first = nodes[0]!;
    const { enableOfflineQueue, retryStrategy, lazyConnect, ...perNode } = options;
    const clusterOptions: ClusterOptions = {
      redisOptions: {
        ...perNode,
        ...(first.username ? { username: first.username } : {}),
        ...(first.password ? { password: first.password } : {}),
        ...(first.tls ? { tls: {} } : {}),
      },
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      ...(lazyConnect !== undefined ? { lazyConnect } : {}),
      clusterRetryStrategy: (times) => retryStrategy?.(times) ?? Math.min(times * 100, 2_000),
      retryDelayOnFailover: CLUSTER_DEFAULTS.retryDelayOnFailoverMs,
      retryDelayOnClusterDown: CLUSTER_DEFAULTS.retryDelayOnClusterDownMs,
      slotsRefreshTimeout: CLUSTER_DEFAULTS.slotsRefreshTimeoutMs,
      retryDelayOnTryAgain: CLUSTER_DEFAULTS.retryDelayOnTryAgainMs,
      maxRedirections: CLUSTER_DEFAULTS.maxRedirections,
      // TLS certificates name hosts, not the addresses the slot map reports.
      ...(first.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    };
    return new Cluster(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  }
  if (target.sentinels.length === 0) throw new InvalidArgumentError('redis.sentinels: lists none');
  if (!target.name) throw new InvalidArgumentError('redis.name: the Sentinel master group is missing');
  const sentinels = target.sentinels.map((s, i) => parseEndpoint(s, `redis.sentinels[${i}]`));
  const first = sentinels[0]!;
  return new Redis({
    ...options,
    sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    ...(target.password ? { password: target.password } : {}),
    ...(first.username ? { sentinelUsername: first.username } : {}),
    ...(first.password ? { sentinelPassword: first.password } : {}),
    ...(first.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    // Give up on an unreachable sentinel quickly and ask the next one.
    sentinelRetryStrategy: (times) => Math.min(times * 100, 1_000),
  });
}

/**
 * A redis:// or rediss:// URL, or an absolute unix socket path. Checked here because ioredis
 * throws a bare TypeError for some bad URLs and silently misreads others (http://x becomes a
 * socket path). The URL itself is not echoed: it may carry a password.
 */
export function assertRedisUrl(url: string): void {
  if (url.startsWith('/')) return;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch (error) {
    throw new InvalidArgumentError('the Redis URL does not parse (expected redis://host:port)', {
      cause: error,
    });
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new InvalidArgumentError(`the Redis URL must use redis:// or rediss://, not ${protocol}//`);
  }
}

/** Every key matching `pattern`: SCAN on one node, SCAN on each master of a Cluster. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}
