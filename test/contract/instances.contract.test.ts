/**
 * The instance registry, in memory and in a real Redis: announce, locate, withdraw; in Redis an
 * entry not refreshed in time counts as gone (and the next announce drops it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisInstanceRegistry } from '../../src/http/instances-redis.js';
import { MemoryInstanceRegistry, type InstanceRegistry } from '../../src/http/peers.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

function suite(make: () => InstanceRegistry) {
  it('announce, locate, list and withdraw', async () => {
    const registry = make();
    assert.equal(await registry.locate('a1'), undefined);
    await registry.announce('a1', 'http://10.0.0.1:8766');
    await registry.announce('b2', 'http://10.0.0.2:8766');
    assert.equal(await registry.locate('a1'), 'http://10.0.0.1:8766');
    assert.deepEqual(Object.keys(await registry.list()).sort(), ['a1', 'b2']);
    await registry.announce('a1', 'http://10.0.0.9:8766');
    assert.equal(await registry.locate('a1'), 'http://10.0.0.9:8766');
    await registry.withdraw('a1');
    assert.equal(await registry.locate('a1'), undefined);
    assert.deepEqual(Object.keys(await registry.list()), ['b2']);
  });
}

describe('MemoryInstanceRegistry', () => suite(() => new MemoryInstanceRegistry()));

describe('RedisInstanceRegistry', () => {
  let server: RedisServer;
  let redis: Redis;
  let n = 0;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  suite(() => new RedisInstanceRegistry(redis, `t${++n}:`, 60_000));

  it('lays out one hash under the prefix: field = tag, value = { url, seen } on the Redis clock', async () => {
    const registry = new RedisInstanceRegistry(redis, 'layout:', 60_000);
    await registry.announce('a1', 'http://10.0.0.1:8766');
    const [seconds] = await redis.time();
    const entry = JSON.parse((await redis.hget('layout:instances', 'a1'))!) as { url: string; seen: number };
    assert.equal(entry.url, 'http://10.0.0.1:8766');
    assert.ok(Math.abs(entry.seen - Number(seconds) * 1000) < 2_000);
  });

  it('with a secret, an entry written without it (or for another URL) is ignored', async () => {
    const signed = new RedisInstanceRegistry(redis, 'signed:', 60_000, 'shared-secret');
    await signed.announce('a1', 'http://10.0.0.1:8766');
    assert.equal(await signed.locate('a1'), 'http://10.0.0.1:8766');
    const entry = JSON.parse((await redis.hget('signed:instances', 'a1'))!) as Record<string, unknown>;
    assert.equal(typeof entry.sig, 'string');
    // Someone with write access to Redis but not the secret points a1 elsewhere.
    await redis.hset('signed:instances', 'a1', JSON.stringify({ ...entry, url: 'http://evil.example' }));
    assert.equal(await signed.locate('a1'), undefined);
    await new RedisInstanceRegistry(redis, 'signed:', 60_000).announce('b2', 'http://10.0.0.2:8766');
    assert.equal(await signed.locate('b2'), undefined);
    await new RedisInstanceRegistry(redis, 'signed:', 60_000, 'other').announce('c3', 'http://10.0.0.3:8766');
    assert.equal(await signed.locate('c3'), undefined);
  });

  it('an entry not refreshed within staleAfterMs is gone, and the next announce drops it', async () => {
    const registry = new RedisInstanceRegistry(redis, 'stale:', 150);
    await registry.announce('dead', 'http://10.0.0.1:8766');
    assert.equal(await registry.locate('dead'), 'http://10.0.0.1:8766');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await registry.locate('dead'), undefined);
    await registry.announce('alive', 'http://10.0.0.2:8766');
    assert.deepEqual(await redis.hkeys('stale:instances'), ['alive']);
  });
});
