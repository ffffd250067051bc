/**
 * The one place that picks a bus backend: Redis when a URL is configured, the embedded
 * in-process bus otherwise.
 */
import type { EventBus } from '../types.js';
import { MemoryBus } from './memory.js';
import type { RedisBusOptions } from './redis.js';

export { MemoryBus, DEFAULT_HISTORY_CAPACITY, type MemoryBusOptions } from './memory.js';
import { isRedisConfigured, type RedisTarget } from '../redis-target.js';

export type { RedisBusOptions, StatusListener } from './redis.js';
export type { IngestVerdict } from './dispatch.js';

/** The Redis bus's options, with the URL optional: empty or absent gives the embedded bus. */
export type CreateBusOptions = Omit<RedisBusOptions, 'redisUrl'> & { redisUrl?: RedisTarget };

/** Async only because the Redis bus (and ioredis) is loaded when a URL is configured, not before. */
export async function createBus(options: CreateBusOptions): Promise<EventBus> {
  const redisUrl = typeof options.redisUrl === 'string' ? options.redisUrl.trim() : options.redisUrl;
  if (!isRedisConfigured(redisUrl) || redisUrl === '') {
    return new MemoryBus({
      source: options.source,
      agentId: options.agentId,
      secret: options.secret,
      clock: options.clock,
      logger: options.logger,
      capacity: options.streamMaxLen,
    });
  }
  const { RedisBus } = await import('./redis.js');
  return new RedisBus({ ...options, redisUrl });
}
