/**
 * Shared state in Redis: key `<prefix>state:<key>` holding the value's JSON, with PX when a TTL
 * is given. Expiry times come from the Redis clock (LUA_CLOCK), like the lock times.
 */
import type { RedisClient } from '../redis-connect.js';

import { LUA_CLOCK, LuaScript, parseJson, storeCall } from '../locks/redis-store.js';
import type { StateBackend, StateEntry } from './types.js';

/**
 * The key's absolute expiry in epoch ms (-1: none): PEXPIRETIME where Redis has it (7.0+), so a
 * value's `expiresAt` reads the same on every call; older servers compute it from PTTL (±1 ms).
 */
const EXPIRY_FN = `
local function expiry_ms(key)
  local at = redis.pcall('PEXPIRETIME', key)
  if type(at) == 'number' then return at end
  local pttl = redis.call('PTTL', key)
  if pttl < 0 then return pttl end
  return now_ms + pttl
end
`;

// KEYS: state key. ARGV: JSON, ttlMs or ''. Returns {created 0|1, expiresAt or ''}.
const SET = new LuaScript(`${LUA_CLOCK}${EXPIRY_FN}
local created = 1 - redis.call('EXISTS', KEYS[1])
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
  return {created, ''}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {created, iso(expiry_ms(KEYS[1]))}
`);

// KEYS: state key. Returns false, or {JSON, expiresAt or ''}.
const GET = new LuaScript(`${LUA_CLOCK}${EXPIRY_FN}
local json = redis.call('GET', KEYS[1])
if not json then return false end
local at = expiry_ms(KEYS[1])
if at < 0 then return {json, ''} end
return {json, iso(at)}
`);

export function stateKeyPrefix(prefix: string): string {
  return `${prefix}state:`;
}

export class RedisStateBackend implements StateBackend {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keyPrefix = stateKeyPrefix(prefix);
  }

  async set(key: string, json: string, ttlMs?: number): Promise<{ created: boolean; expiresAt?: string }> {
    const reply = (await storeCall(this.redis, () =>
      SET.run(this.redis, [this.keyPrefix + key], [json, ttlMs ?? '']),
    )) as [number, string];
    return { created: reply[0] === 1, ...(reply[1] !== '' && { expiresAt: reply[1] }) };
  }

  async get(key: string): Promise<StateEntry | undefined> {
    const reply = (await storeCall(this.redis, () => GET.run(this.redis, [this.keyPrefix + key], []))) as
      [string, string] | null;
    if (!reply) return undefined;
    return { key, value: parseJson(reply[0]) ?? null, ...(reply[1] !== '' && { expiresAt: reply[1] }) };
  }

  async delete(key: string): Promise<boolean> {
    return (await storeCall(this.redis, () => this.redis.del(this.keyPrefix + key))) === 1;
  }
}
