import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus, createBus } from '../../../src/coordination/bus/index.js';
import { RedisBus } from '../../../src/coordination/bus/redis.js';
import { planReplay } from '../../../src/coordination/bus/replay.js';
import { RingBuffer } from '../../../src/coordination/bus/ring.js';
import { reconnectDelay } from '../../../src/coordination/bus/redis-connection.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

describe('RingBuffer', () => {
  it('drops the oldest item when full and reports it', () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => ring.push(n)),
      [0, 0, 0, 1],
    );
    assert.deepEqual(ring.toArray(), [2, 3, 4]);
    assert.equal(ring.size, 3);
  });

  it('shifts from the front and puts a batch back in front, dropping the oldest on overflow', () => {
    const ring = new RingBuffer<number>(4);
    for (const n of [1, 2, 3, 4]) ring.push(n);
    const batch = ring.shift(2);
    assert.deepEqual(batch, [1, 2]);
    ring.push(5);
    assert.equal(ring.unshift(batch), 1);
    assert.deepEqual(ring.toArray(), [2, 3, 4, 5]);
    assert.deepEqual(ring.shift(10), [2, 3, 4, 5]);
    assert.equal(ring.size, 0);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new RingBuffer(0), RangeError);
  });
});

describe('MemoryBus specifics', () => {
  it('reports status disabled and keeps only `capacity` events for replay', async () => {
    const bus = new MemoryBus({ source: 's', agentId: 'a', capacity: 3 });
    assert.equal(bus.status, 'disabled');
    const sent = [1, 2, 3, 4, 5].map((i) => bus.publish({ type: 'file:locked', data: { i } }));
    assert.deepEqual(await bus.replay(), sent.slice(2));
    assert.deepEqual(await bus.replay({ since: sent[0]!.id }), sent.slice(2));
    await bus.close();
  });

  it('uses the injected clock for ids and timestamps', async () => {
    const bus = new MemoryBus({ source: 's', agentId: 'a', clock: () => Date.parse('2030-01-01T00:00:00Z') });
    const event = bus.publish({ type: 'agent:registered', data: {} });
    assert.equal(event.timestamp, '2030-01-01T00:00:00.000Z');
    assert.ok(event.id.startsWith(String(Date.parse('2030-01-01T00:00:00Z'))));
    await bus.close();
  });

  it('records and delivers an ingested peer event', async () => {
    const peer = new MemoryBus({ source: 'peer', agentId: 'p' });
    const bus = new MemoryBus({ source: 's', agentId: 'a' });
    const got: string[] = [];
    bus.subscribe((e) => got.push(e.source));
    const event = peer.publish({ type: 'server:registered', data: { serverId: 'docs' } });
    assert.equal(bus.ingest(JSON.stringify(event)), 'ok');
    assert.equal(bus.ingest('[]'), 'malformed');
    await Promise.resolve();
    assert.deepEqual(got, ['peer']);
    assert.deepEqual(await bus.replay(), [event]);
    assert.equal(bus.stats().rejected, 1);
    await Promise.all([peer.close(), bus.close()]);
  });
});

describe('createBus', () => {
  const base = { prefix: 'mcp:', streamMaxLen: 100, source: 's', agentId: 'a', logger: silentLogger };

  it('builds the embedded bus when no Redis URL is configured', async () => {
    for (const redisUrl of [undefined, '', '  ']) {
      const bus = await createBus({ ...base, redisUrl });
      assert.ok(bus instanceof MemoryBus);
      assert.equal(bus.status, 'disabled');
      await bus.close();
    }
  });

  it('builds the Redis bus when a URL is configured, disconnected until it connects', async () => {
    // Port 1 refuses at once: the bus must still construct, report itself down and close.
    const bus = await createBus({ ...base, redisUrl: 'redis://127.0.0.1:1' });
    assert.ok(bus instanceof RedisBus);
    assert.equal(bus.status, 'disconnected');
    assert.equal(bus.publish({ type: 'agent:registered', data: {} }).type, 'agent:registered');
    assert.equal(bus.stats().buffered, 1);
    await bus.close();
  });

  it('refuses a Redis URL it cannot use, without echoing it', async () => {
    for (const redisUrl of ['redis://:secret@:port', 'http://example.com']) {
      await assert.rejects(
        createBus({ ...base, redisUrl }),
        (error: unknown) => error instanceof InvalidArgumentError && !error.message.includes('secret'),
      );
    }
  });
});

describe('replay planning', () => {
  it('refuses a negative or fractional limit and an unreadable since', () => {
    assert.throws(() => planReplay({ limit: -1 }), InvalidArgumentError);
    assert.throws(() => planReplay({ limit: 1.5 }), InvalidArgumentError);
    assert.throws(() => planReplay({ since: 'soon' }), InvalidArgumentError);
  });

  it('reads a stream id as a stream position and a time with a skew allowance', () => {
    assert.equal(planReplay({ since: '1700000000000-3' }).afterStreamId, '1700000000000-3');
    assert.equal(planReplay({ since: '1700000000000' }).fromMs, 1700000000000 - 60_000);
    assert.equal(planReplay({ limit: 5 }).fromNewest, true);
    assert.equal(planReplay({ since: '1700000000000', limit: 5 }).fromNewest, false);
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially and stays under the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 1000].map((t) => reconnectDelay(t, 50, 2_000)),
      [50, 100, 200, 400, 2_000, 2_000],
    );
  });
});
