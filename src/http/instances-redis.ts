/**
 * The instance registry in the shared Redis: hash `<prefix>instances`, field = instance tag,
 * value = JSON `{ url, seen }` (`seen` from the Redis clock, so hosts with skewed clocks agree on
 * who is alive). One key per script: fine on Redis Cluster. Loaded only when Redis is configured.
 * With `coordination.secret`, an entry carries `sig`, an HMAC of its tag and URL: forwarded
 * requests carry the caller's credentials, so an entry nobody holding the secret wrote is ignored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../coordination/redis-connect.js';
import type { RedisTarget } from '../coordination/redis-target.js';
import { closeConnection } from '../coordination/bus/redis-connection.js';
import {
  connectStore,
  LuaScript,
  parseJson,
  storeCall,
  waitReady,
} from '../coordination/locks/redis-store.js';
import type { Logger } from '../shared/logger.js';
import type { InstanceRegistry } from './peers.js';

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// ARGV: tag, url, staleAfterMs, sig ("" for none). Writes the entry, drops those not refreshed in time.
const ANNOUNCE = new LuaScript(`${NOW_MS}
local entry = { url = ARGV[2], seen = now }
if ARGV[4] ~= '' then entry.sig = ARGV[4] end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if not ok or type(entry) ~= 'table' or type(entry.seen) ~= 'number' or entry.seen < now - tonumber(ARGV[3])
      or entry.seen > now + tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return now
`);

// ARGV: tag, staleAfterMs. The JSON of a live entry, or false.
const LOCATE = new LuaScript(`${NOW_MS}
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return false end
local ok, entry = pcall(cjson.decode, json)
if not ok or type(entry) ~= 'table' or type(entry.seen) ~= 'number' then return false end
-- Stale, or dated in the future (written by hand: it would never go stale).
if entry.seen < now - tonumber(ARGV[2]) or entry.seen > now + tonumber(ARGV[2]) then return false end
return json
`);

export class RedisInstanceRegistry implements InstanceRegistry {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly staleAfterMs: number,
    private readonly secret: string | undefined = undefined,
    private readonly owned: boolean = false,
  ) {
    this.key = `${prefix}instances`;
  }

  async announce(tag: string, url: string): Promise<void> {
    const sig = this.sign(tag, url) ?? '';
    await storeCall(this.redis, () =>
      ANNOUNCE.run(this.redis, [this.key], [tag, url, this.staleAfterMs, sig]),
    );
  }

  async locate(tag: string): Promise<string | undefined> {
    const json = await storeCall(this.redis, () =>
      LOCATE.run(this.redis, [this.key], [tag, this.staleAfterMs]),
    );
    const entry = typeof json === 'string' ? parseJson<{ url?: unknown; sig?: unknown }>(json) : undefined;
    if (typeof entry?.url !== 'string') return undefined;
    const expected = this.sign(tag, entry.url);
    if (expected === undefined) return entry.url;
    const given = Buffer.from(typeof entry.sig === 'string' ? entry.sig : '');
    const want = Buffer.from(expected);
    return given.length === want.length && timingSafeEqual(given, want) ? entry.url : undefined;
  }

  async list(): Promise<Record<string, { url: string; seen: number }>> {
    const all = await storeCall(this.redis, () => this.redis.hgetall(this.key));
    const out: Record<string, { url: string; seen: number }> = {};
    for (const [tag, json] of Object.entries(all)) {
      const entry = parseJson<{ url: string; seen: number }>(json);
      if (entry) out[tag] = entry;
    }
    return out;
  }

  async withdraw(tag: string): Promise<void> {
    await storeCall(this.redis, () => this.redis.hdel(this.key, tag));
  }

  async close(): Promise<void> {
    if (this.owned) await closeConnection(this.redis);
  }

  private sign(tag: string, url: string): string | undefined {
    if (!this.secret) return undefined;
    return createHmac('sha256', `mcp-coordinator/instances/${this.secret}`)
      .update(`${tag}\n${url}`)
      .digest('base64url');
  }
}

/** A connection of its own (a forward lookup never queues behind a lock script), then the registry. */
export async function openRedisInstances(
  url: RedisTarget,
  prefix: string,
  staleAfterMs: number,
  secret: string | undefined,
  logger: Logger,
): Promise<RedisInstanceRegistry> {
  const redis = connectStore(url, logger);
  if (!(await waitReady(redis))) logger.warn('instance registry: Redis not reachable yet; retrying');
  return new RedisInstanceRegistry(redis, prefix, staleAfterMs, secret, true);
}
