/**
 * The one place that picks a bus backend: Redis when a URL is configured, the embedded
 * in-process bus otherwise.
 */
import type { Logger } from '../../shared/logger.js';
import type { EventBus } from '../types.js';
import { MemoryBus } from './memory.js';
import { RedisBus } from './redis.js';

export { MemoryBus, DEFAULT_HISTORY_CAPACITY, type MemoryBusOptions } from './memory.js';
export { RedisBus, type RedisBusOptions, type StatusListener } from './redis.js';
export { REDIS_BUS_DEFAULTS } from './redis-connection.js';
export type { IngestVerdict } from './dispatch.js';

export interface CreateBusOptions {
  /** Empty or absent: the embedded bus. */
  redisUrl?: string;
  prefix: string;
  /** History kept for replay: the Redis stream's cap, or the memory bus's ring buffer. */
  streamMaxLen: number;
  secret?: string;
  source: string;
  agentId: string;
  logger: Logger;
  clock?: () => number;
  /** Redis only: events kept while it is unreachable. */
  bufferLimit?: number;
}

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
