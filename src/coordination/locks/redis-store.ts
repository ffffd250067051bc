/**
 * The shared-store connection that the Redis lock, task, agent and registry backends use. It
 * lives with the locks because they are the foundation the others build on (tasks lock files,
 * agents release locks).
 *
 * The one rule: while Redis is unreachable an operation fails fast with
 * CoordinationUnavailableError, it never waits and never grants anything locally. Hence no
 * offline queue (a command issued while disconnected is rejected at once), no per-request retry
 * across reconnects, and a command timeout; reconnection itself keeps going in the background.
 */
import { createHash } from 'node:crypto';

import { CoordinationUnavailableError, CoordinatorError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { openRedis, type RedisClient } from '../redis-connect.js';
import type { RedisTarget } from '../redis-target.js';

export const STORE_DEFAULTS = {
  /** A lock round trip is well under a millisecond on a healthy link; a second means trouble. */
  commandTimeoutMs: 1_000,
  connectTimeoutMs: 2_000,
  /** How long `connectStore` waits for the first connection before giving up (non-fatally). */
  readyTimeoutMs: 2_000,
  maxReconnectDelayMs: 1_000,
} as const;

export type StoreStatus = 'connected' | 'disconnected';

/**
 * Why each store connection is not connected, while it is not: a call refused meanwhile says it
 * (a certificate the process does not trust, a refused port), not just "reconnecting".
 */
const connectionErrors = new WeakMap<RedisClient, string>();

export function connectStore(target: RedisTarget, logger: Logger): RedisClient {
  const redis = openRedis(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: STORE_DEFAULTS.commandTimeoutMs,
    connectTimeout: STORE_DEFAULTS.connectTimeoutMs,
    retryStrategy: (times) => Math.min(times * 100, STORE_DEFAULTS.maxReconnectDelayMs),
    lazyConnect: true,
  });
  // Without a listener ioredis prints every connection error itself.
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn('coordination store error', { error: error.message });
    lastError = error.message;
    connectionErrors.set(redis, error.message);
  });
  redis.on('ready', () => {
    if (lastError) logger.info('coordination store reconnected');
    lastError = '';
    connectionErrors.delete(redis);
  });
  return redis;
}

/** Resolves true once connected, false after `timeoutMs` (the client keeps retrying). */
export async function waitReady(
  redis: RedisClient,
  timeoutMs: number = STORE_DEFAULTS.readyTimeoutMs,
): Promise<boolean> {
  if (redis.status === 'wait') redis.connect().catch(() => {});
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

export function storeStatus(redis: RedisClient): StoreStatus {
  return redis.status === 'ready' ? 'connected' : 'disconnected';
}

/** Replies that mean "the server cannot serve now", as opposed to a bug in a script. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * A Cluster slot in migration: TRYAGAIN (a script's keys split between the two nodes) or ASK
 * still answered when ioredis stopped retrying, or a script refused for a key on the other node.
 * (MOVED alone is a slot map in flux, a failover as much as a migration.)
 */
const MIGRATING = /\bTRYAGAIN\b|\bASK \d|access a non local key/;

/** Runs one store operation, failing fast and uniformly when Redis is not there. */
export async function storeCall<T>(redis: RedisClient, operation: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') {
    const why = connectionErrors.get(redis);
    throw new CoordinationUnavailableError(
      `shared store unreachable (redis ${redis.status}${why ? `: ${why}` : ''})`,
    );
  }
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(error);
  }
}

function toStoreError(error: unknown): unknown {
  if (error instanceof CoordinatorError) return error;
  if (error instanceof Error && MIGRATING.test(error.message)) {
    return new CoordinationUnavailableError(
      `shared store unreachable: its Redis Cluster slot is being migrated; try again (${error.message})`,
      { cause: error },
    );
  }
  if (error instanceof Error && error.name === 'ReplyError' && !TRANSIENT_REPLY.test(error.message))
    return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CoordinationUnavailableError(`shared store unreachable: ${message}`, { cause: error });
}

/** A Lua script run by EVALSHA, loaded with EVAL when the server does not know it (new or restarted). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

/**
 * Lua prelude: `now_ms` from the Redis clock and `iso(ms)` (the sandbox has no `os.date`). Lock
 * and task times are taken from Redis, not from each coordinator, so `expiresAt` is exactly the
 * PX deadline and coordinators with skewed clocks still agree on it. Needs Redis ≥ 5 (scripts
 * replicated by effects, so TIME before a write is allowed).
 */
export const LUA_CLOCK = `
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * Lua: `held_by(holder, recOwner, agent, owner)`, the holder rule of heldBy (types.ts) — the same
 * agent, and the same owner unless the record has none. `owner` is '' for a caller without one.
 */
export const LUA_HELD_BY = `
local function held_by(holder, rec_owner, agent, owner)
  if holder ~= agent then return false end
  return rec_owner == nil or rec_owner == cjson.null or rec_owner == '' or rec_owner == owner
end
`;

/** SCAN MATCH pattern for every key under `prefix` (glob characters in the prefix escaped). */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** JSON.parse that returns undefined for foreign or corrupt values instead of throwing. */
export function parseJson<T>(text: string | null | undefined): T | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
