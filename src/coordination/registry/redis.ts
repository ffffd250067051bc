/** The registry as the contract lays it out: hash `<prefix>servers:registry`, field = server id, value = JSON. */
import type { RedisClient } from '../redis-connect.js';

import { LuaScript, parseJson, storeCall } from '../locks/redis-store.js';
import type { RegistryBackend, ServerRegistryEntry } from './types.js';

// ARGV: serverId, JSON. Returns the previous JSON (or false).
const UPSERT = new LuaScript(`
local previous = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return previous
`);

// ARGV: serverId, owner. Compares the owner inside Redis so a newer writer's entry survives.
const REMOVE = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if cjson.decode(cur).owner ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
`);

export class RedisRegistryBackend implements RegistryBackend {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = `${prefix}servers:registry`;
  }

  async upsert(entry: ServerRegistryEntry): Promise<ServerRegistryEntry | undefined> {
    const previous = await storeCall(this.redis, () =>
      UPSERT.run(this.redis, [this.key], [entry.serverId, JSON.stringify(entry)]),
    );
    return typeof previous === 'string' ? parseJson<ServerRegistryEntry>(previous) : undefined;
  }

  async list(): Promise<ServerRegistryEntry[]> {
    const all = await storeCall(this.redis, () => this.redis.hgetall(this.key));
    return Object.values(all)
      .map((json) => parseJson<ServerRegistryEntry>(json))
      .filter((entry): entry is ServerRegistryEntry => entry !== undefined)
      .sort((a, b) => a.serverId.localeCompare(b.serverId));
  }

  async remove(serverId: string, owner: string): Promise<boolean> {
    return (await storeCall(this.redis, () => REMOVE.run(this.redis, [this.key], [serverId, owner]))) === 1;
  }
}
