/**
 * The one place that picks a bus backend: Redis when a URL is configured, the embedded
 * in-process bus otherwise.
 */
import type { EventBus } from '../types.js';
import { MemoryBus } from './memory.js';
import { RedisBus, type RedisBusOptions } from './redis.js';

export { MemoryBus, DEFAULT_HISTORY_CAPACITY, type MemoryBusOptions } from './memory.js';
export { RedisBus, type RedisBusOptions, type StatusListener } from './redis.js';
export { REDIS_BUS_DEFAULTS } from './redis-connection.js';
export type { IngestVerdict } from './dispatch.js';

/** The Redis bus's options, with the URL optional: empty or absent gives the embedded bus. */
export type CreateBusOptions = Omit<RedisBusOptions, 'redisUrl'> & { redisUrl?: string };

export function createBus(options: CreateBusOptions): EventBus {
  const redisUrl = options.redisUrl?.trim();
  if (!redisUrl) {
    return new MemoryBus({
      source: options.source,
      agentId: options.agentId,
      secret: options.secret,
      clock: options.clock,
      logger: options.logger,
      capacity: options.streamMaxLen,
    });
  }
  return new RedisBus({ ...options, redisUrl });
}
