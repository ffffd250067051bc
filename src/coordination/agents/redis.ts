/**
 * Agents in Redis: key `<prefix>agent:<id>` (JSON AgentRecord, PX = agent TTL, rewritten by each
 * heartbeat) and the set `<prefix>agents` of registered ids. The set is what lets another
 * coordinator notice an expired agent without keyspace notifications: a member whose key is gone
 * has expired, and removing it from the set (SREM answers 1 to exactly one caller) is the right
 * to announce it.
 */
import type { RedisClient } from '../redis-connect.js';

import { LuaScript, parseJson, storeCall } from '../locks/redis-store.js';
import { normalizeAgent, type AgentBackend, type AgentRecord } from './types.js';

// KEYS: agent key, set. ARGV: record JSON, ttlMs, id. Returns 1 when the key was absent.
const HEARTBEAT = new LuaScript(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1 - existed
`);

// KEYS: agent key, set. ARGV: id.
const REMOVE = new LuaScript(`
redis.call('DEL', KEYS[1])
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

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.setKey = `${prefix}agents`;
    this.keyPrefix = `${prefix}agent:`;
  }

  async heartbeat(record: AgentRecord, ttlMs: number): Promise<boolean> {
    const keys = [this.keyPrefix + record.agentId, this.setKey];
    const reply = await storeCall(this.redis, () =>
      HEARTBEAT.run(this.redis, keys, [JSON.stringify(record), ttlMs, record.agentId]),
    );
    return reply === 1;
  }

  async remove(agentId: string): Promise<boolean> {
    const keys = [this.keyPrefix + agentId, this.setKey];
    return (await storeCall(this.redis, () => REMOVE.run(this.redis, keys, [agentId]))) === 1;
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
