/**
 * The load both bus rows share (bench/sections/bus.ts, bench/bus-archive.ts): one coordinator's
 * bus publishes, another's receives, saturated but with a bounded publisher backlog.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBus } from '../src/coordination/bus/redis.js';
import type { CoordinationEvent, EventBus } from '../src/coordination/types.js';
import { silentLogger } from '../src/shared/logger.js';

export const THROUGHPUT_EVENTS = 50_000;
export const THROUGHPUT_TIME_MS = 10_000;
/** Publisher-side backlog allowed before the loop yields: keeps the outbox far from its limit. */
export const BACKLOG = 5_000;
export const CONNECT_TIMEOUT_MS = 10_000;
/** The steady rate of the latency figures: bursts of 10 every millisecond or so. */
export const LATENCY_EVENTS = 5_000;
const LATENCY_BURST = 10;
const LATENCY_TIME_MS = 10_000;

export function makeBus(redisUrl: string, prefix: string, source: string): RedisBus {
  return new RedisBus({
    redisUrl,
    prefix,
    streamMaxLen: 10_000,
    source,
    agentId: source,
    logger: silentLogger,
    bufferLimit: 4 * BACKLOG,
  });
}

export interface ThroughputOptions {
  /** What publishes: the publisher's RedisBus itself, or a bus wrapping it (the archive). */
  publish: EventBus;
  /** The RedisBus underneath `publish`, whose outbox is the backlog kept bounded. */
  publisher: RedisBus;
  subscriber: RedisBus;
  /** Called with each event's ordinal right after it is published. */
  onPublished?: (n: number) => void;
}

export interface ThroughputResult {
  sent: number;
  received: number;
  eventsPerSecond: number;
  /** performance.now() of the last delivery. */
  lastAt: number;
}

export async function throughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { publish, publisher, subscriber, onPublished } = options;
  let received = 0;
  let lastAt = 0;
  const off = subscriber.subscribe(() => {
    received += 1;
    lastAt = performance.now();
  });
  const started = performance.now();
  const deadline = started + THROUGHPUT_TIME_MS;
  let sent = 0;
  try {
    while (sent < THROUGHPUT_EVENTS && performance.now() < deadline) {
      if (publisher.stats().buffered >= BACKLOG) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      for (let i = 0; i < 500 && sent < THROUGHPUT_EVENTS; i++, sent++) {
        publish.publish({ type: 'file:locked', data: { n: sent } });
        onPublished?.(sent);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => received >= sent, Math.max(1_000, deadline - performance.now()), false);
  } finally {
    off();
  }
  const eventsPerSecond = received === 0 ? 0 : (received / Math.max(lastAt - started, 1)) * 1000;
  return { sent, received, eventsPerSecond, lastAt };
}

export async function until(check: () => boolean, timeoutMs: number, required = true): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      if (required) throw new Error(`bus bench: gave up after ${timeoutMs} ms waiting`);
      return;
    }
    await sleep(2);
  }
}

export interface LatencyOptions {
  publish: EventBus;
  subscriber: RedisBus;
  onPublished?: (n: number) => void;
}

/** Delivery latency of each event (ms) at a steady rate below saturation. */
export async function latency(options: LatencyOptions): Promise<number[]> {
  const { publish, subscriber, onPublished } = options;
  const samples: number[] = [];
  const off = subscriber.subscribe((event: CoordinationEvent) => {
    const sentAt = event.data.sentAt;
    if (typeof sentAt === 'number') samples.push(performance.now() - sentAt);
  }, 'task:claimed');
  const deadline = performance.now() + LATENCY_TIME_MS;
  try {
    for (let sent = 0; sent < LATENCY_EVENTS && performance.now() < deadline;) {
      for (let i = 0; i < LATENCY_BURST; i++, sent++) {
        publish.publish({ type: 'task:claimed', data: { sentAt: performance.now() } });
        onPublished?.(sent);
      }
      await sleep(1);
    }
    await until(() => samples.length >= LATENCY_EVENTS, Math.max(1_000, deadline - performance.now()), false);
  } finally {
    off();
  }
  return samples;
}

export async function dropStream(redisUrl: string, key: string): Promise<void> {
  const client = new Redis(redisUrl, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => {}); // connect() below reports it; without a listener ioredis prints it
  try {
    await client.connect();
    await client.del(key);
  } catch {
    // Leaving a capped bench stream behind is harmless.
  } finally {
    client.disconnect();
  }
}
