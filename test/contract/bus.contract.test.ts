/**
 * The bus contract over both backends, then what only the Redis one promises: the channel and
 * stream layout of CONTRACT.md, and staying useful while Redis is down.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryBus } from '../../src/coordination/bus/index.js';
import { RedisBus, type RedisBusOptions } from '../../src/coordination/bus/redis.js';
import { createEvent, signEvent } from '../../src/coordination/events.js';
import type { BusStatus } from '../../src/coordination/types.js';
import { CoordinationUnavailableError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';
import { collect, runBusContract, waitForStatus, waitUntil } from './bus-suite.js';

const redis: RedisServer = await startRedis();
after(() => redis.stop());

let prefixes = 0;
const uniquePrefix = () => `t${++prefixes}:mcp:`;

function makeRedisBus(url: string, extra: Partial<ConstructorParameters<typeof RedisBus>[0]> = {}) {
  return new RedisBus({
    redisUrl: url,
    prefix: uniquePrefix(),
    streamMaxLen: 1_000,
    source: 'test-source',
    agentId: 'test-agent',
    logger: silentLogger,
    reconnectMaxDelayMs: 100,
    ...extra,
  });
}

runBusContract('memory', async (options) => {
  const bus = new MemoryBus({ source: 'test-source', agentId: 'test-agent', secret: options?.secret });
  return { bus, cleanup: () => bus.close(), inject: async (json) => void bus.ingest(json) };
});

runBusContract('redis', async (options) => {
  const prefix = uniquePrefix();
  const bus = makeRedisBus(redis.url, { prefix, secret: options?.secret });
  const raw = new Redis(redis.url);
  await waitForStatus(bus, 'connected');
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      raw.disconnect();
    },
    inject: async (json) => void (await raw.publish(`${prefix}events`, json)),
  };
});

describe('redis bus: layout', () => {
  const opened: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close();
  });
  const raw = () => {
    const client = new Redis(redis.url);
    opened.push({ close: () => client.disconnect() });
    return client;
  };

  it('publishes on <prefix>events and on the family channel', async () => {
    const prefix = uniquePrefix();
    const listener = raw();
    const got: Array<[string, string]> = [];
    listener.on('message', (channel: string, message: string) => got.push([channel, message]));
    await listener.subscribe(`${prefix}events`, `${prefix}events:file-locks`, `${prefix}events:tasks`);
    const bus = makeRedisBus(redis.url, { prefix });
    opened.push(bus);
    const locked = bus.publish({ type: 'file:locked', data: { file: 'a' } });
    const claimed = bus.publish({ type: 'task:claimed', data: { taskId: 't' } });
    await waitUntil(() => got.length === 4, 'four channel messages');
    const on = (channel: string) =>
      got.filter(([c]) => c === `${prefix}${channel}`).map(([, m]) => JSON.parse(m));
    assert.deepEqual(on('events'), [locked, claimed]);
    assert.deepEqual(on('events:file-locks'), [locked]);
    assert.deepEqual(on('events:tasks'), [claimed]);
  });

  it('appends to a capped stream and replays after a stream id', async () => {
    const prefix = uniquePrefix();
    const bus = makeRedisBus(redis.url, { prefix, streamMaxLen: 100 });
    opened.push(bus);
    const seen = collect(bus);
    for (let i = 0; i < 2_000; i++) bus.publish({ type: 'file:locked', data: { i } });
    await seen.waitFor(2_000);
    // Own events reach own subscribers at once; the stream has them once the outbox is empty.
    await waitUntil(() => bus.stats().buffered === 0, 'the flush');
    const client = raw();
    const length = await client.xlen(`${prefix}events:stream`);
    // MAXLEN ~ trims whole radix-tree nodes (100 entries by default), so a little over the cap.
    assert.ok(length >= 100 && length <= 300, `stream length ${length}`);
    const entries = await client.xrange(`${prefix}events:stream`, '-', '+', 'COUNT', 3);
    const [firstId] = entries[0]!;
    const replayed = await bus.replay({ since: firstId });
    assert.equal(replayed.length, length - 1);
    assert.deepEqual(replayed[0], JSON.parse(entries[1]![1][1]!));
  });

  it('a bus closed before its first connection still sends what was published (a one-shot command)', async () => {
    const prefix = uniquePrefix();
    const bus = makeRedisBus(redis.url, { prefix });
    const event = bus.publish({ type: 'file:locked', data: { file: 'quick.ts' } });
    assert.notEqual(bus.status, 'connected');
    await bus.close();
    const entries = await raw().xrange(`${prefix}events:stream`, '-', '+');
    assert.deepEqual(
      entries.map(([, fields]) => (JSON.parse(fields[1]!) as { id: string }).id),
      [event.id],
    );
  });

  it('skips stream entries whose signature does not verify when replaying with a secret', async () => {
    const prefix = uniquePrefix();
    const bus = makeRedisBus(redis.url, { prefix, secret: 'k' });
    opened.push(bus);
    await waitForStatus(bus, 'connected');
    const forged = createEvent({ type: 'file:locked', data: {} }, { source: 'x', agentId: 'x' });
    await raw().xadd(`${prefix}events:stream`, '*', 'event', JSON.stringify(signEvent(forged, 'wrong')));
    const good = bus.publish({ type: 'file:unlocked', data: {} });
    await waitUntil(() => bus.stats().buffered === 0, 'the flush');
    assert.deepEqual(await bus.replay(), [good]);
    assert.equal(bus.stats().rejected, 1);
  });
});

describe('redis bus: faults', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(() => server.stop());

  it('keeps publishing without waiting while Redis is down, then flushes in order', async () => {
    const bus = makeRedisBus(server.url);
    const statuses: BusStatus[] = [];
    bus.onStatus((status) => statuses.push(status));
    try {
      await waitForStatus(bus, 'connected');
      const seen = collect(bus);
      await server.kill();
      await waitForStatus(bus, 'disconnected');
      const started = performance.now();
      const sent = Array.from({ length: 100 }, (_, i) => bus.publish({ type: 'task:claimed', data: { i } }));
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 50, `100 publishes took ${elapsed.toFixed(1)} ms`);
      assert.equal(bus.stats().buffered, 100);
      await assert.rejects(bus.replay(), CoordinationUnavailableError);

      await server.restart();
      await waitForStatus(bus, 'connected');
      await seen.waitFor(100);
      assert.deepEqual(seen.events, sent);
      await waitUntil(() => bus.stats().buffered === 0, 'the flush');
      assert.deepEqual(await bus.replay(), sent);
      assert.deepEqual(bus.stats(), { published: 100, delivered: 100, dropped: 0, rejected: 0, buffered: 0 });
      assert.deepEqual(statuses, ['connected', 'disconnected', 'connected']);
    } finally {
      await bus.close();
    }
  });

  it('loses nothing and keeps order when Redis dies in the middle of a stream of events', async () => {
    const prefix = uniquePrefix();
    const bus = makeRedisBus(server.url, { prefix });
    // Another coordinator on the same Redis and prefix, to see what reached Redis after its restart.
    const other = makeRedisBus(server.url, { prefix });
    try {
      await waitForStatus(bus, 'connected');
      await waitForStatus(other, 'connected');
      const seen = collect(bus);
      const otherSeen = collect(other);
      const sent: string[] = [];
      let killed: Promise<void> | undefined;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 50; i++) sent.push(bus.publish({ type: 'file:locked', data: { round, i } }).id);
        // Not awaited: the kill lands while batches are on the wire.
        if (round === 10) killed = server.kill();
        if (round === 30) {
          await killed; // the old process must have released the port
          await server.restart();
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      // This process's own subscribers get every event once, in order, whatever Redis does.
      await waitUntil(() => seen.events.length === sent.length, 'every event', 15_000);
      assert.deepEqual(
        seen.events.map((e) => e.id),
        sent,
      );
      // Everything published once the old Redis was gone (from round 30: buffered, then flushed
      // into the restarted one) reaches the stream and the other coordinator, in order; what the
      // old Redis had acknowledged went with it (no persistence here).
      await waitForStatus(bus, 'connected');
      await waitUntil(() => bus.stats().buffered === 0, 'the flush', 15_000);
      const afterRestart = sent.slice(30 * 50);
      const stored = (await bus.replay()).map((e) => e.id);
      assert.deepEqual(
        stored.filter((id) => afterRestart.includes(id)),
        afterRestart,
        'published after the restart: in the stream, in order',
      );
      const heard = () => otherSeen.events.map((e) => e.id).filter((id) => afterRestart.includes(id));
      await waitUntil(() => new Set(heard()).size === afterRestart.length, 'the other coordinator', 15_000);
      assert.deepEqual([...new Set(heard())], afterRestart);
      assert.equal(bus.stats().dropped, 0);
    } finally {
      await Promise.all([bus.close(), other.close()]);
    }
  });

  /**
   * A publisher and a coordinator reaching Redis through a TCP proxy (the link a test cuts), on
   * one prefix, both connected; `heard` is what the cut-off one receives, `sent` what was published.
   */
  async function cutOffPair(
    extra: { publisher?: Partial<RedisBusOptions>; cut?: Partial<RedisBusOptions> } = {},
  ) {
    const prefix = uniquePrefix();
    const proxy = await tcpProxy(Number(new URL(server.url).port));
    const publisher = makeRedisBus(server.url, { prefix, ...extra.publisher });
    const cut = makeRedisBus(`redis://127.0.0.1:${proxy.port}`, { prefix, source: 'cut-off', ...extra.cut });
    const close = async () => {
      await Promise.all([publisher.close(), cut.close()]);
      await proxy.stop();
    };
    try {
      await waitForStatus(publisher, 'connected');
      await waitForStatus(cut, 'connected');
    } catch (error) {
      await close();
      throw error;
    }
    const heard = collect(cut);
    const sent: string[] = [];
    return {
      prefix,
      heard,
      sent,
      publisher,
      close,
      /** Publishes n events; returns their ids. */
      publish(n: number): string[] {
        const ids = Array.from(
          { length: n },
          (_, i) => publisher.publish({ type: 'task:progress', data: { i } }).id,
        );
        sent.push(...ids);
        return ids;
      },
      async cutLink() {
        await proxy.stop();
        await waitForStatus(cut, 'disconnected');
      },
      /** Resolves once the link is back (the catch-up may still be running). */
      async restoreLink() {
        await proxy.start();
        await waitForStatus(cut, 'connected');
      },
      flushed: () => waitUntil(() => publisher.stats().buffered === 0, 'the publisher to flush'),
    };
  }

  it('a coordinator whose link was cut reads back what another published meanwhile: once, in order', async () => {
    const pair = await cutOffPair();
    try {
      pair.publish(5);
      await pair.heard.waitFor(5);

      await pair.cutLink();
      pair.publish(20);
      await pair.flushed();
      assert.equal(pair.heard.events.length, 5, 'nothing reached the cut-off coordinator live');

      await pair.restoreLink();
      pair.publish(5);
      await pair.heard.waitFor(30);
      assert.deepEqual(
        pair.heard.events.map((e) => e.id),
        pair.sent,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(pair.heard.events.length, 30, 'no event twice');
    } finally {
      await pair.close();
    }
  });

  it('reads back by the stream, not the publisher’s clock: a publisher 10 minutes behind is not missed', async () => {
    // Its events are stamped 10 minutes ago (a clock behind, or events held in its outbox through an
    // outage of its own and flushed late): the stream takes them now.
    const pair = await cutOffPair({ publisher: { clock: () => Date.now() - 600_000 } });
    try {
      pair.publish(3);
      await pair.heard.waitFor(3);
      await pair.cutLink();
      pair.publish(10);
      await pair.flushed();
      await pair.restoreLink();
      pair.publish(2);
      await pair.heard.waitFor(15);
      assert.deepEqual(
        pair.heard.events.map((e) => e.id),
        pair.sent,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(pair.heard.events.length, 15, 'no event twice');
    } finally {
      await pair.close();
    }
  });

  it('places the loss on Redis’s clock: a cut-off coordinator whose clock runs 10 minutes ahead misses nothing', async () => {
    const pair = await cutOffPair({ cut: { clock: () => Date.now() + 600_000 } });
    try {
      pair.publish(2);
      await pair.heard.waitFor(2);
      await pair.cutLink();
      pair.publish(6);
      await pair.flushed();
      await pair.restoreLink();
      await pair.heard.waitFor(8);
      assert.deepEqual(
        pair.heard.events.map((e) => e.id),
        pair.sent,
      );
    } finally {
      await pair.close();
    }
  });

  it('a catch-up read that fails is tried again: the missed events come late, once, not never', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, child: () => logger, warn: (msg: string) => void warnings.push(msg) };
    const pair = await cutOffPair({ cut: { logger } });
    const stream = `${pair.prefix}events:stream`;
    const raw = new Redis(server.url);
    try {
      pair.publish(3);
      await pair.heard.waitFor(3);
      await pair.cutLink();
      const missed = pair.publish(5);
      await pair.flushed();
      // The stream is unreadable (another type under its key) when the cut-off one comes back.
      await raw.rename(stream, `${stream}:aside`);
      await raw.set(stream, 'not a stream');
      await pair.restoreLink();
      await waitUntil(() => warnings.some((w) => w.startsWith('could not read back')), 'the failed read');
      assert.equal(pair.heard.events.length, 3, 'nothing read back yet');
      await raw.del(stream);
      await raw.rename(`${stream}:aside`, stream);
      // Retries come 1, 2, 4, 8 s apart: a busy machine can miss the first one or two.
      await pair.heard.waitFor(8, 30_000);
      assert.deepEqual(
        pair.heard.events.slice(3).map((e) => e.id),
        missed,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(pair.heard.events.length, 8, 'no event twice');
      assert.ok(!warnings.some((w) => w.startsWith('gave up')));
    } finally {
      raw.disconnect();
      await pair.close();
    }
  });

  it('drops the oldest events beyond the buffer limit and counts them', async () => {
    const bus = makeRedisBus(server.url, { bufferLimit: 10 });
    try {
      await waitForStatus(bus, 'connected');
      const seen = collect(bus);
      await server.kill();
      await waitForStatus(bus, 'disconnected');
      const sent = Array.from({ length: 25 }, (_, i) => bus.publish({ type: 'file:locked', data: { i } }));
      assert.equal(bus.stats().dropped, 15);
      assert.equal(bus.stats().buffered, 10);
      // Own subscribers saw all 25; Redis gets the newest 10 once it is back.
      await seen.waitFor(25);
      assert.deepEqual(seen.events, sent);
      await server.restart();
      await waitForStatus(bus, 'connected');
      await waitUntil(() => bus.stats().buffered === 0, 'the flush');
      assert.deepEqual(await bus.replay(), sent.slice(15));
    } finally {
      await bus.close();
    }
  });

  it('buffers from the start when Redis is not there yet, and closes quickly without it', async () => {
    await server.kill();
    const bus = makeRedisBus(server.url);
    const event = bus.publish({ type: 'agent:registered', data: {} });
    assert.equal(bus.status, 'disconnected');
    assert.equal(bus.stats().buffered, 1);
    const started = performance.now();
    await bus.close();
    assert.ok(performance.now() - started < 500, 'close waited on a down Redis');
    assert.equal(event.type, 'agent:registered');
    await server.restart();
  });
});
