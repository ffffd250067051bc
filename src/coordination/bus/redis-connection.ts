/**
 * How the bus talks to Redis at the connection level: options under which a down Redis makes
 * calls fail at once instead of hanging, the reconnect backoff, and a close that never throws.
 */
import type { RedisOptions } from 'ioredis';

import { openRedis, type RedisClient } from '../redis-connect.js';
import type { RedisTarget } from '../redis-target.js';

export const REDIS_BUS_DEFAULTS = {
  bufferLimit: 10_000,
  /** Events per script call: large enough to amortise round trips, small enough to keep latency flat. */
  batchSize: 256,
  reconnectBaseDelayMs: 50,
  reconnectMaxDelayMs: 2_000,
  /** After a failed send while the connection still looks up, wait this long before trying again. */
  resendDelayMs: 100,
  /** How long close() waits for buffered events (e.g. a final agent:left) to leave. */
  closeFlushTimeoutMs: 1_000,
  quitTimeoutMs: 1_000,
  replayPageSize: 500,
} as const;

/** Capped exponential backoff; always a number, so ioredis never gives up reconnecting. */
export function reconnectDelay(times: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(Math.max(times - 1, 0), 20), maxMs);
}

export { assertRedisUrl } from '../redis-connect.js';

export function busConnection(target: RedisTarget, name: string, reconnectMaxDelayMs: number): RedisClient {
  const options: RedisOptions = {
    // CLIENT SETNAME refuses spaces; the name only helps `CLIENT LIST` readers.
    connectionName: name.replace(/[^\w.:-]/g, '_'),
    // The bus owns buffering (bounded, counted, ordered); ioredis's own queues would be unbounded
    // and make callers wait while Redis is down.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // Commands in flight when the connection drops fail at once; the bus re-buffers them.
    maxRetriesPerRequest: 0,
    // The bus resubscribes itself on 'ready' so it knows when the subscription is live again.
    autoResubscribe: false,
    retryStrategy: (times) =>
      reconnectDelay(times, REDIS_BUS_DEFAULTS.reconnectBaseDelayMs, reconnectMaxDelayMs),
  };
  return openRedis(target, options);
}

/**
 * One script call per batch instead of three commands per event: the fan-out (`events`, the
 * family channel, the stream) then costs Redis a few microseconds per event and the client one
 * round trip per batch; client-side command overhead, not Redis, is what limits a pipeline.
 * KEYS[1] = stream; ARGV = channel, stream cap, then (family, json) pairs.
 */
const PUBLISH_EVENTS_LUA = `
local channel = ARGV[1]
local maxlen = ARGV[2]
for i = 3, #ARGV, 2 do
  local json = ARGV[i + 1]
  redis.call('PUBLISH', channel, json)
  redis.call('PUBLISH', channel .. ':' .. ARGV[i], json)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'event', json)
end
return (#ARGV - 2) / 2
`;

export type PublishEvents = (
  streamKey: string,
  channel: string,
  maxLen: string,
  ...familyJsonPairs: string[]
) => Promise<number>;

/** Registers the script on the connection (ioredis sends EVALSHA and falls back to EVAL). */
export function definePublishEvents(redis: RedisClient): PublishEvents {
  redis.defineCommand('mcpPublishEvents', { numberOfKeys: 1, lua: PUBLISH_EVENTS_LUA });
  const command = (redis as unknown as { mcpPublishEvents: PublishEvents }).mcpPublishEvents;
  return command.bind(redis);
}

/** QUIT when the connection is up (lets Redis flush replies), then make sure it stays closed. */
export async function closeConnection(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.quit(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, REDIS_BUS_DEFAULTS.quitTimeoutMs);
          timer.unref();
        }),
      ]);
    } catch {
      // Closing anyway; a failed QUIT changes nothing for the caller.
    } finally {
      clearTimeout(timer);
    }
  }
  redis.disconnect(false);
}

export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
