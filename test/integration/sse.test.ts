/**
 * The SSE routes on a real node:http server (127.0.0.1, port 0), read by real `fetch`: replay with
 * Last-Event-ID and with ?since= while events keep being published (no loss, no duplicates),
 * heartbeats, a thousand streams closed at once leave no listener behind, a reader that does not
 * read is dropped instead of buffered, and the JSON log routes answer (or refuse bad input with 400).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createBus } from '../../src/coordination/bus/index.js';
import type { CoordinationEvent, EventBus } from '../../src/coordination/types.js';
import {
  eventsStreamHandler,
  logSourcesHandler,
  logsHandler,
  logsStreamHandler,
  type RouteHandler,
  type StreamRouteOptions,
} from '../../src/http/observability-routes.js';
import type { SseStream } from '../../src/http/sse.js';
import { LogRing } from '../../src/observability/log-ring.js';
import { silentLogger } from '../../src/shared/logger.js';
import { waitFor } from '../helpers/coordinator.js';

/** The real bus, with its live subscriptions counted. */
function countingBus(bus: EventBus): { bus: EventBus; active(): number } {
  let active = 0;
  const counted: EventBus = {
    publish: (input) => bus.publish(input),
    subscribe(handler, glob) {
      active += 1;
      const off = bus.subscribe(handler, glob);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        active -= 1;
        off();
      };
    },
    replay: (options) => bus.replay(options),
    get status() {
      return bus.status;
    },
    stats: () => bus.stats(),
    close: () => bus.close(),
  };
  return { bus: counted, active: () => active };
}

interface Frame {
  id?: string;
  data?: string;
  comment?: string;
}

/** A stream read with fetch: frames parsed as they come. */
class SseClient {
  readonly frames: Frame[] = [];
  readonly controller = new AbortController();
  status = 0;
  ended = false;
  private constructor() {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers, signal: client.controller.signal });
    client.status = response.status;
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    assert.match(response.headers.get('cache-control') ?? '', /no-cache/);
    void client.read(response.body!);
    return client;
  }

  get items(): CoordinationEvent[] {
    return this.frames
      .filter((f) => f.data !== undefined)
      .map((f) => JSON.parse(f.data!) as CoordinationEvent);
  }

  close(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of body) {
        text += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, at);
          text = text.slice(at + 2);
          const frame: Frame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('data: ')) frame.data = line.slice(6);
          }
          this.frames.push(frame);
        }
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
    }
  }
}

async function listen(routes: Record<string, RouteHandler>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    // As a real server may: the (empty) body is drained first. The stream must not take the
    // request's end for the client going away.
    req.resume();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const handler = routes[url.pathname];
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res, url).catch((error: unknown) => {
      res.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2_048 }, resolve),
  );
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Publishes `task:progress`-like events numbered n, a few per turn, until stopped. */
function publishing(bus: EventBus, from: number): { stop(): Promise<number> } {
  let n = from;
  let running = true;
  const done = (async () => {
    while (running) {
      for (let i = 0; i < 5; i++) bus.publish({ type: 'task:claimed', data: { n: n++ } });
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return n;
    },
  };
}

describe('SSE routes over real HTTP', () => {
  let bus: EventBus;
  let active: () => number;
  let ring: LogRing;
  let server: Server;
  let base: string;
  const options: StreamRouteOptions = { heartbeatMs: 0, maxQueued: 5_000 };

  before(async () => {
    const counted = countingBus(
      await createBus({
        redisUrl: '',
        prefix: 'mcp:',
        logger: silentLogger,
        source: 'sse-test',
        agentId: 'sse-agent',
        streamMaxLen: 50_000,
      }),
    );
    bus = counted.bus;
    active = counted.active;
    ring = new LogRing({ maxLines: 50_000 });
    ({ server, base } = await listen({
      '/api/events/stream': eventsStreamHandler(bus, options),
      '/api/logs/stream': logsStreamHandler(ring, options),
      '/api/logs': logsHandler(ring),
      '/api/logs/sources': logSourcesHandler(ring),
    }));
  });
  after(async () => {
    await close(server);
    await bus.close();
  });

  for (const how of ['Last-Event-ID', '?since='] as const) {
    test(`replays after ${how} while events keep coming: every event once, in order`, async () => {
      const first: CoordinationEvent[] = [];
      for (let n = 0; n < 100; n++) first.push(bus.publish({ type: 'task:claimed', data: { n } }));
      const publisher = publishing(bus, 100);
      await delay(0);
      const after = first[39]!.id;
      const client =
        how === 'Last-Event-ID'
          ? await SseClient.open(`${base}/api/events/stream`, { 'Last-Event-ID': after })
          : await SseClient.open(`${base}/api/events/stream?since=${encodeURIComponent(after)}`);
      // Let live events flow after the replay, then stop and mark the end.
      await waitFor(() => client.items.some((e) => (e.data.n as number) >= 400), 10_000, 'live events');
      const end = await publisher.stop();
      bus.publish({ type: 'task:completed', data: { n: end } });
      await waitFor(() => client.items.some((e) => e.type === 'task:completed'), 10_000, 'the end marker');
      client.close();

      const ns = client.items.map((e) => e.data.n as number);
      assert.equal(ns[0], 40, 'starts right after the given id');
      assert.deepEqual(
        ns,
        Array.from({ length: end - 40 + 1 }, (_, i) => 40 + i),
        'no gap, no duplicate',
      );
      const ids = client.frames.filter((f) => f.id).map((f) => f.id!);
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(
        ids,
        client.items.map((e) => e.id),
        'the SSE id is the event id',
      );
      await waitFor(() => active() === 0, 5_000, 'the subscription released');
    });
  }

  test('?type= filters replay and live; a bad glob is 400', async () => {
    const locked = bus.publish({ type: 'file:locked', data: { file: 'a' } });
    bus.publish({ type: 'task:claimed', data: {} });
    const client = await SseClient.open(
      `${base}/api/events/stream?type=file:*&since=${locked.id.slice(0, 13)}`,
    );
    bus.publish({ type: 'task:claimed', data: {} });
    const unlocked = bus.publish({ type: 'file:unlocked', data: { file: 'a' } });
    await waitFor(() => client.items.some((e) => e.id === unlocked.id), 5_000, 'file:unlocked');
    client.close();
    assert.deepEqual(
      client.items.map((e) => e.type),
      ['file:locked', 'file:unlocked'],
    );
    const bad = await fetch(`${base}/api/events/stream?type=${'*'.repeat(300)}`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
    const badSince = await fetch(`${base}/api/events/stream?since=yesterday`);
    assert.equal(badSince.status, 400);
    assert.match(((await badSince.json()) as { error: { message: string } }).error.message, /since/);
  });

  test('sends heartbeat comments on an idle stream', async () => {
    const beating = await listen({ '/api/logs/stream': logsStreamHandler(ring, { heartbeatMs: 50 }) });
    try {
      const client = await SseClient.open(`${beating.base}/api/logs/stream`);
      await waitFor(
        () => client.frames.filter((f) => f.comment === 'heartbeat').length >= 2,
        5_000,
        'two heartbeats',
      );
      client.close();
    } finally {
      await close(beating.server);
    }
  });

  test('the log stream replays after since, filters by source and level, then goes live', async () => {
    const start = ring.lastId;
    ring.push('server:a', 'info', 'a info');
    ring.push('server:a', 'error', 'a error');
    ring.push('server:b', 'error', 'b error');
    const client = await SseClient.open(`${base}/api/logs/stream?source=server:a&level=warn&since=${start}`);
    ring.push('server:a', 'debug', 'a debug');
    ring.push('server:a', 'warn', 'a warn');
    await waitFor(() => client.frames.some((f) => f.data?.includes('a warn')), 5_000, 'the live line');
    client.close();
    const lines = client.frames
      .filter((f) => f.data)
      .map((f) => JSON.parse(f.data!) as { id: number; message: string });
    assert.deepEqual(
      lines.map((l) => l.message),
      ['a error', 'a warn'],
    );
    assert.deepEqual(
      client.frames.filter((f) => f.id).map((f) => Number(f.id)),
      lines.map((l) => l.id),
    );
    for (const query of ['level=loud', 'since=abc', 'limit=0', 'limit=x']) {
      const path = query.startsWith('limit') ? '/api/logs' : '/api/logs/stream';
      const res = await fetch(`${base}${path}?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
    }
  });

  test('GET /api/logs and /api/logs/sources answer JSON', async () => {
    ring.push('server:json', 'warn', 'one');
    ring.push('server:json', 'info', 'two');
    const res = await fetch(`${base}/api/logs?source=server:json&limit=5`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const { lines } = (await res.json()) as {
      lines: Array<{ message: string; source: string; level: string }>;
    };
    assert.deepEqual(
      lines.map((l) => [l.source, l.level, l.message]),
      [
        ['server:json', 'warn', 'one'],
        ['server:json', 'info', 'two'],
      ],
    );
    const sources = (await (await fetch(`${base}/api/logs/sources`)).json()) as {
      sources: Array<{ source: string; count: number }>;
    };
    assert.deepEqual(
      sources.sources.find((s) => s.source === 'server:json'),
      { source: 'server:json', count: 2 },
    );
  });

  test('1,000 streams closed at once leave no bus or ring listener behind', async () => {
    assert.equal(active(), 0);
    assert.equal(ring.listenerCount, 0);
    const clients: SseClient[] = [];
    // In waves, so the connects never overrun the listen backlog (a dropped SYN waits a second).
    for (let wave = 0; wave < 10; wave++) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            SseClient.open(i % 2 === 0 ? `${base}/api/events/stream` : `${base}/api/logs/stream`),
          ),
        )),
      );
    }
    await waitFor(() => active() === 500 && ring.listenerCount === 500, 10_000, '1,000 subscriptions');
    // Every one of them is live.
    const marker = bus.publish({ type: 'agent:left', data: {} });
    ring.push('coordinator', 'info', 'marker');
    await waitFor(
      () =>
        clients.every((c, i) =>
          i % 2 === 0
            ? c.items.some((e) => e.id === marker.id)
            : c.frames.some((f) => f.data?.includes('marker')),
        ),
      10_000,
      'the marker on every stream',
    );
    for (const client of clients) client.close();
    await waitFor(() => active() === 0 && ring.listenerCount === 0, 10_000, 'every listener released');
    await waitFor(
      () => new Promise<boolean>((resolve) => server.getConnections((_e, n) => resolve(n === 0))),
      10_000,
      'every socket closed',
    );
  });

  test('a reader that does not read is dropped, not buffered without bound', async () => {
    const small = countingBus(
      await createBus({
        redisUrl: '',
        prefix: 'mcp:',
        logger: silentLogger,
        source: 'slow-test',
        agentId: 'slow',
        streamMaxLen: 100,
      }),
    );
    const dropped: SseStream[] = [];
    const slow = await listen({
      '/api/events/stream': eventsStreamHandler(small.bus, {
        heartbeatMs: 0,
        maxQueued: 32,
        onStream: (s) => dropped.push(s),
      }),
    });
    try {
      // Opened, never read: the socket and then the queue fill up.
      const controller = new AbortController();
      const response = await fetch(`${slow.base}/api/events/stream`, { signal: controller.signal });
      assert.equal(response.status, 200);
      await waitFor(() => small.active() === 1, 5_000, 'the subscription');
      const payload = 'x'.repeat(16 * 1024);
      let published = 0;
      let outcome: string | undefined;
      void dropped[0]!.ended.then((reason) => (outcome = reason));
      // 16 KiB events until the server gives up on the reader (bounded: 200 MiB would be a failure).
      while (outcome === undefined && published < 12_800) {
        for (let i = 0; i < 20; i++) small.bus.publish({ type: 'task:claimed', data: { payload } });
        published += 20;
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => outcome, 5_000, 'the stream ended');
      assert.equal(outcome, 'dropped');
      assert.ok(dropped[0]!.sent < published, `sent ${dropped[0]!.sent} of ${published}`);
      await waitFor(() => small.active() === 0, 5_000, 'its subscription released');
      controller.abort();
    } finally {
      await close(slow.server);
      await small.bus.close();
    }
  });
});

test('an event already replayed is not sent again when its live copy arrives after the replay', async () => {
  // The Redis bus writes the stream (XADD) and publishes (PUBLISH) in one script, but the replay
  // reads on one connection and the live copy comes on another: under load the replay can hold
  // an event whose pub/sub message is delivered only after the stream went live.
  const event = (n: number): CoordinationEvent => ({
    id: `${String(1_700_000_000_000 + n).padStart(13, '0')}-000000-abcdef01`,
    type: 'file:locked',
    source: 'sse-test',
    agentId: 'a',
    data: { n },
    timestamp: new Date(1_700_000_000_000 + n).toISOString(),
  });
  let live: ((e: CoordinationEvent) => void) | undefined;
  const bus = {
    subscribe: (handler: (e: CoordinationEvent) => void) => {
      live = handler;
      return () => (live = undefined);
    },
    replay: () => Promise.resolve([event(1), event(2)]),
  } as unknown as EventBus;
  const { server, base } = await listen({
    '/api/events/stream': eventsStreamHandler(bus, { heartbeatMs: 0 }),
  });
  try {
    const client = await SseClient.open(`${base}/api/events/stream`, { 'last-event-id': event(0).id });
    await waitFor(() => client.items.length === 2, 5_000, 'the replay');
    live!(event(2)); // the late pub/sub copy of a replayed event
    live!(event(3));
    await waitFor(() => client.items.some((e) => e.id === event(3).id), 5_000, 'the live event');
    assert.deepEqual(
      client.items.map((e) => e.data['n']),
      [1, 2, 3],
    );
    client.close();
  } finally {
    await close(server);
  }
});
