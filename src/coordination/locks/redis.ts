/**
 * Locks in Redis: key `<prefix>lock:<file>`, value the JSON LockRecord, expiry by PX. Acquire is
 * `SET NX PX`; everything that compares the holder runs as one Lua script so nobody can slip in
 * between the check and the write. Each operation is one round trip. `acquiredAt` and `expiresAt`
 * come from the Redis clock (see LUA_CLOCK), so `expiresAt` is the PX deadline itself.
 */
import { randomUUID } from 'node:crypto';

import { scanKeys, type RedisClient } from '../redis-connect.js';

import { LUA_CLOCK, LUA_HELD_BY, LuaScript, parseJson, scanPattern, storeCall } from './redis-store.js';
import type { AcquireOptions, AcquireResult, LockBackend, LockRecord, ReleaseResult } from './types.js';

// ARGV: agentId, ttlMs, new record JSON without its times, reason, '1' to set the reason ('0' keeps
// it), owner ('' none). Returns {1, json} acquired, {2, json} extended by the holder, {0, json} held
// by someone else (another agent, or another session of this one).
const ACQUIRE = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}
local ttl = tonumber(ARGV[2])
local expiresAt = iso(now_ms + ttl)
local fresh = string.sub(ARGV[3], 1, -2) .. ',"acquiredAt":"' .. iso(now_ms) .. '","expiresAt":"' .. expiresAt .. '"}'
if redis.call('SET', KEYS[1], fresh, 'NX', 'PX', ttl) then return {1, fresh} end
local cur = redis.call('GET', KEYS[1])
local rec = cjson.decode(cur)
if not held_by(rec.holder, rec.owner, ARGV[1], ARGV[6]) then return {0, cur} end
rec.expiresAt = expiresAt
if ARGV[5] == '1' then rec.reason = ARGV[4] end
local out = cjson.encode(rec)
redis.call('SET', KEYS[1], out, 'PX', ttl)
return {2, out}
`);

// ARGV: agentId, owner ('' none). Returns {1, json, releasedAt} released, {0} not locked, {-1, json}
// held by someone else.
const RELEASE = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}
local cur = redis.call('GET', KEYS[1])
if not cur then return {0} end
local rec = cjson.decode(cur)
if not held_by(rec.holder, rec.owner, ARGV[1], ARGV[2]) then return {-1, cur} end
redis.call('DEL', KEYS[1])
return {1, cur, iso(now_ms)}
`);

// ARGV: agentId, ttlMs, owner ('' none). Returns the updated JSON, or false when not the holder.
const EXTEND = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
local rec = cjson.decode(cur)
if not held_by(rec.holder, rec.owner, ARGV[1], ARGV[3]) then return false end
rec.expiresAt = iso(now_ms + tonumber(ARGV[2]))
local out = cjson.encode(rec)
redis.call('SET', KEYS[1], out, 'PX', ARGV[2])
return out
`);

export function lockKeyPrefix(prefix: string): string {
  return `${prefix}lock:`;
}

export class RedisLockBackend implements LockBackend {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keyPrefix = lockKeyPrefix(prefix);
  }

  async acquire(file: string, agentId: string, options: AcquireOptions): Promise<AcquireResult> {
    // Times are added by the script, from the Redis clock.
    const fresh = {
      file,
      holder: agentId,
      ...(options.owner ? { owner: options.owner } : {}),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      token: randomUUID(),
    };
    const args = [
      agentId,
      options.ttlMs,
      JSON.stringify(fresh),
      options.reason ?? '',
      options.reason !== undefined ? '1' : '0',
      options.owner ?? '',
    ];
    const reply = await storeCall(this.redis, () => ACQUIRE.run(this.redis, [this.keyPrefix + file], args));
    const [code, json] = reply as [number, string];
    const record = parseRecord(json, file);
    if (code === 0) {
      return { ok: false, file, holder: record.holder, reason: record.reason, expiresAt: record.expiresAt };
    }
    return { ok: true, lock: record, extended: code === 2 };
  }

  async release(file: string, agentId: string, owner?: string): Promise<ReleaseResult> {
    const reply = await storeCall(this.redis, () =>
      RELEASE.run(this.redis, [this.keyPrefix + file], [agentId, owner ?? '']),
    );
    const [code, json, releasedAt] = reply as [number, string | undefined, string | undefined];
    if (code === 0) return { ok: false, file, reason: 'not_locked' };
    const record = parseRecord(json, file);
    if (code === 1) return { ok: true, lock: record, releasedAt: releasedAt ?? '' };
    return { ok: false, file, reason: 'not_holder', holder: record.holder, expiresAt: record.expiresAt };
  }

  async extend(
    file: string,
    agentId: string,
    ttlMs: number,
    owner?: string,
  ): Promise<LockRecord | undefined> {
    const reply = await storeCall(this.redis, () =>
      EXTEND.run(this.redis, [this.keyPrefix + file], [agentId, ttlMs, owner ?? '']),
    );
    return typeof reply === 'string' ? parseRecord(reply, file) : undefined;
  }

  async get(file: string): Promise<LockRecord | undefined> {
    const json = await storeCall(this.redis, () => this.redis.get(this.keyPrefix + file));
    return json === null ? undefined : parseRecord(json, file);
  }

  async getMany(files: readonly string[]): Promise<Map<string, LockRecord>> {
    const out = new Map<string, LockRecord>();
    if (files.length === 0) return out;
    const values = await storeCall(this.redis, () =>
      this.redis.mget(...files.map((f) => this.keyPrefix + f)),
    );
    values.forEach((json, i) => {
      if (json !== null) out.set(files[i]!, parseRecord(json, files[i]!));
    });
    return out;
  }

  async list(): Promise<LockRecord[]> {
    return storeCall(this.redis, async () => {
      const keys = await scanKeys(this.redis, scanPattern(this.keyPrefix));
      if (keys.length === 0) return [];
      const values = await this.redis.mget(...keys);
      const out: LockRecord[] = [];
      values.forEach((json, i) => {
        // A key may expire between SCAN and MGET.
        if (json !== null) out.push(parseRecord(json, keys[i]!.slice(this.keyPrefix.length)));
      });
      return out.sort((a, b) => a.file.localeCompare(b.file));
    });
  }
}

/** Parse a stored lock; the key is the truth for `file` (cjson may re-escape it). */
export function parseRecord(json: string | undefined, file: string): LockRecord {
  const parsed = parseJson<Partial<LockRecord>>(json) ?? {};
  return {
    file,
    holder: String(parsed.holder ?? 'unknown'),
    ...(typeof parsed.owner === 'string' && parsed.owner !== '' ? { owner: parsed.owner } : {}),
    ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
    ...(typeof parsed.taskId === 'string' ? { taskId: parsed.taskId } : {}),
    token: String(parsed.token ?? ''),
    acquiredAt: String(parsed.acquiredAt ?? ''),
    expiresAt: String(parsed.expiresAt ?? ''),
  };
}
