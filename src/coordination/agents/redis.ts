/**
 * Agents in Redis: key `<prefix>agent:<id>` (JSON AgentRecord, PX = agent TTL, rewritten by each
 * heartbeat), the set `<prefix>agents` of registered ids, and the hash `<prefix>agent-owners:<id>`
 * of the coordinator processes acting as the agent (field owner token, value the time in ms its
 * presence lapses; the whole hash expires with the last heartbeat). An owner leaving removes the
 * agent only when no other owner is present. The set is what lets another
 * coordinator notice an expired agent without keyspace notifications: a member whose key is gone
 * has expired, and removing it from the set (SREM answers 1 to exactly one caller) is the right
 * to announce it.
 */
import type { RedisClient } from '../redis-connect.js';

import { LuaScript, parseJson, storeCall } from '../locks/redis-store.js';
import { systemClock, type Clock } from '../types.js';
import { normalizeAgent, type AgentBackend, type AgentRecord } from './types.js';

// KEYS: agent key, set, owners. ARGV: record JSON, ttlMs, id, owner ('' for none), now (ms).
// Returns 1 when the key was absent.
const HEARTBEAT = new LuaScript(`
local existed = redis.call('EXISTS', KEYS[1])
if existed == 0 then redis.call('DEL', KEYS[3]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[4], tonumber(ARGV[5]) + tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return 1 - existed
`);

// KEYS: agent key, set, owners. ARGV: id, owner ('' for none), now (ms). Returns 1 when the agent
// went and was a member; 0 while another owner is still present (its lapsed entries are dropped).
const REMOVE = new LuaScript(`
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[2])
  local fields = redis.call('HGETALL', KEYS[3])
  local others = 0
  for i = 1, #fields, 2 do
    if tonumber(fields[i + 1]) > tonumber(ARGV[3]) then
      others = others + 1
    else
      redis.call('HDEL', KEYS[3], fields[i])
    end
  end
  if others > 0 then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[3])
return redis.call('SREM', KEYS[2], ARGV[1])
`);

// KEYS: agent key, set. ARGV: id. Only while the key is still gone.
const CLAIM_EXPIRED = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return redis.call('SREM', KEYS[2], ARGV[1])
`);

// KEYS: set. ARGV: agent key prefix.
const EXPIRED = new LuaScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then out[#out + 1] = id end
end
return out
`);

export class RedisAgentBackend implements AgentBackend {
  private readonly setKey: string;
  private readonly keyPrefix: string;
  private readonly ownersPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.setKey = `${prefix}agents`;
    this.keyPrefix = `${prefix}agent:`;
    // Not `agent:<id>:owners`: an agent id may itself end in ':owners'.
    this.ownersPrefix = `${prefix}agent-owners:`;
  }

  async heartbeat(record: AgentRecord, ttlMs: number, owner = ''): Promise<boolean> {
    const id = record.agentId;
    const keys = [this.keyPrefix + id, this.setKey, this.ownersPrefix + id];
    const reply = await storeCall(this.redis, () =>
      HEARTBEAT.run(this.redis, keys, [JSON.stringify(record), ttlMs, id, owner, this.clock.now()]),
    );
    return reply === 1;
  }

  async remove(agentId: string, owner = ''): Promise<boolean> {
    const keys = [this.keyPrefix + agentId, this.setKey, this.ownersPrefix + agentId];
    return (
      (await storeCall(this.redis, () =>
        REMOVE.run(this.redis, keys, [agentId, owner, this.clock.now()]),
      )) === 1
    );
  }

  async expired(): Promise<string[]> {
    return (await storeCall(this.redis, () =>
      EXPIRED.run(this.redis, [this.setKey], [this.keyPrefix]),
    )) as string[];
  }

  async claimExpired(agentId: string): Promise<boolean> {
    const keys = [this.keyPrefix + agentId, this.setKey];
    return (await storeCall(this.redis, () => CLAIM_EXPIRED.run(this.redis, keys, [agentId]))) === 1;
  }

  async list(): Promise<AgentRecord[]> {
    return storeCall(this.redis, async () => {
      const ids = await this.redis.smembers(this.setKey);
      if (ids.length === 0) return [];
      const values = await this.redis.mget(...ids.map((id) => this.keyPrefix + id));
      return values
        .map((json) => normalizeAgent(parseJson<AgentRecord>(json) ?? {}))
        .filter((record): record is AgentRecord => record !== undefined)
        .sort((a, b) => a.agentId.localeCompare(b.agentId));
    });
  }

  async get(agentId: string): Promise<AgentRecord | undefined> {
    const json = await storeCall(this.redis, () => this.redis.get(this.keyPrefix + agentId));
    return normalizeAgent(parseJson<AgentRecord>(json) ?? {});
  }
}
