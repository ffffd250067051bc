/**
 * Bus speed on a loopback Redis: one coordinator publishes, another receives (as two IDE windows
 * would). Throughput is measured saturated but with a bounded backlog; latency at a steady rate
 * below saturation, which is what a coordinator sees in practice. Bounded in events and time, so
 * it always ends; it returns rows and prints nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBus } from '../../src/coordination/bus/redis.js';
import type { CoordinationEvent } from '../../src/coordination/types.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { BenchRow } from '../types.js';

const THROUGHPUT_EVENTS = 50_000;
const THROUGHPUT_TIME_MS = 10_000;
/** Publisher-side backlog allowed before the loop yields: keeps the outbox far from its limit. */
const BACKLOG = 5_000;
const LATENCY_EVENTS = 5_000;
const LATENCY_BURST = 10;
const LATENCY_TIME_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export async function benchBus(redisUrl: string): Promise<BenchRow[]> {
  const prefix = `bench:${process.pid}:${Date.now()}:`;
  const make = (source: string) =>
    new RedisBus({
      redisUrl,
      prefix,
      streamMaxLen: 10_000,
      source,
      agentId: source,
      logger: silentLogger,
      bufferLimit: 4 * BACKLOG,
    });
  const publisher = make('bench-publisher');
  const subscriber = make('bench-subscriber');
  try {
    await until(
      () => publisher.status === 'connected' && subscriber.status === 'connected',
      CONNECT_TIMEOUT_MS,
    );
    const eventsPerSecond = await throughput(publisher, subscriber);
    const latencies = await latency(publisher, subscriber);
    const p50 = percentile(latencies, 0.5);
    const p95 = percentile(latencies, 0.95);
    return [
      {
        name: 'bus publish→deliver throughput',
        value: Math.round(eventsPerSecond),
        unit: 'events/s',
        target: '>= 20000',
        pass: eventsPerSecond >= 20_000,
      },
      { name: 'bus delivery latency p50', value: round(p50), unit: 'ms' },
      { name: 'bus delivery latency p95', value: round(p95), unit: 'ms', target: '<= 2', pass: p95 <= 2 },
    ];
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
    await dropStream(redisUrl, `${prefix}events:stream`);
  }
}

async function throughput(publisher: RedisBus, subscriber: RedisBus): Promise<number> {
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
        publisher.publish({ type: 'file:locked', data: { n: sent } });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => received >= sent, Math.max(1_000, deadline - performance.now()), false);
  } finally {
    off();
  }
  return received === 0 ? 0 : (received / Math.max(lastAt - started, 1)) * 1000;
}

async function latency(publisher: RedisBus, subscriber: RedisBus): Promise<number[]> {
  const samples: number[] = [];
  const off = subscriber.subscribe((event: CoordinationEvent) => {
    const sentAt = event.data.sentAt;
    if (typeof sentAt === 'number') samples.push(performance.now() - sentAt);
  }, 'task:claimed');
  const deadline = performance.now() + LATENCY_TIME_MS;
  try {
    for (let sent = 0; sent < LATENCY_EVENTS && performance.now() < deadline;) {
      for (let i = 0; i < LATENCY_BURST; i++, sent++) {
        publisher.publish({ type: 'task:claimed', data: { sentAt: performance.now() } });
      }
      await sleep(1);
    }
    await until(() => samples.length >= LATENCY_EVENTS, Math.max(1_000, deadline - performance.now()), false);
  } finally {
    off();
  }
  return samples;
}

async function until(check: () => boolean, timeoutMs: number, required = true): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      if (required) throw new Error(`bus bench: gave up after ${timeoutMs} ms waiting for Redis`);
      return;
    }
    await sleep(2);
  }
}

async function dropStream(redisUrl: string, key: string): Promise<void> {
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

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
