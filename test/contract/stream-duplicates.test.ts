/**
 * At-least-once delivery lands a resent batch in the stream twice: a replay shows each event once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { createBus } from '../../src/coordination/bus/index.js';
import type { EventBus } from '../../src/coordination/types.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

describe('redis stream replay', () => {
  let server: RedisServer;
  let bus: EventBus;
  let raw: Redis;

  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    bus = await createBus({
      redisUrl: server.url,
      prefix: 'dup:',
      streamMaxLen: 1_000,
      source: 'dup',
      agentId: 'agent-dup',
      logger: silentLogger,
    });
  });
  after(async () => {
    await bus.close();
    raw.disconnect();
    await server.stop();
  });

  it('shows an event re-added to the stream once', async () => {
    const first = bus.publish({ type: 'agent:registered', data: { n: 1 } });
    const second = bus.publish({ type: 'agent:registered', data: { n: 2 } });
    const stream = 'dup:events:stream';
    for (;;) {
      if ((await raw.xlen(stream)) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const entries = (await raw.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    // Re-add both, as a resent batch would.
    for (const [, fields] of entries) await raw.xadd(stream, '*', ...fields);
    assert.equal(await raw.xlen(stream), 4);
    assert.deepEqual(
      (await bus.replay({})).map((e) => e.id),
      [first.id, second.id],
    );
    assert.deepEqual(
      (await bus.replay({ limit: 10 })).map((e) => e.id),
      [first.id, second.id],
    );
  });
});
