/**
 * The Redis side of `createCoordination`: the shared-store connection and the four backends over
 * it. Loaded only when a Redis URL is configured, so a coordinator on the embedded bus never
 * loads ioredis (about a tenth of its start-up).
 */
import type { RedisClient } from './redis-connect.js';

import type { Logger } from '../shared/logger.js';
import { RedisAgentBackend } from './agents/redis.js';
import { closeConnection } from './bus/redis-connection.js';
import type { CoordinationBackends } from './index.js';
import { RedisLockBackend } from './locks/redis.js';
import { connectStore, storeStatus, waitReady, type StoreStatus } from './locks/redis-store.js';
import { RedisRegistryBackend } from './registry/redis.js';
import { RedisStateBackend } from './state/redis.js';
import { storeKeyPrefix, type RedisTarget } from './redis-target.js';
import { RedisTaskBackend } from './tasks/redis.js';

export interface RedisStore {
  readonly backends: CoordinationBackends;
  status(): StoreStatus;
  /** QUIT when connected (flushes replies, bounded in time), then disconnect. */
  quit(): Promise<void>;
}

/**
 * Connects (waiting briefly, STORE_DEFAULTS.readyTimeoutMs, for the first connection; when Redis
 * is down it resolves anyway and operations fail fast until it is back).
 */
export async function openRedisStore(
  target: RedisTarget,
  prefix: string,
  logger: Logger,
): Promise<RedisStore> {
  const redis = connectStore(target, logger);
  const ready = await waitReady(redis);
  if (!ready) logger.warn('coordination store not reachable yet; retrying in the background');
  return {
    backends: redisBackends(redis, storeKeyPrefix(target, prefix)),
    status: () => storeStatus(redis),
    quit: () => closeConnection(redis),
  };
}

/** Redis backends; their times come from the Redis clock, so they take no Clock. */
export function redisBackends(redis: RedisClient, prefix: string): CoordinationBackends {
  return {
    locks: new RedisLockBackend(redis, prefix),
    tasks: new RedisTaskBackend(redis, prefix),
    agents: new RedisAgentBackend(redis, prefix),
    registry: new RedisRegistryBackend(redis, prefix),
    state: new RedisStateBackend(redis, prefix),
  };
}
