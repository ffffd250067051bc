/**
 * Bus speed on a loopback Redis: one coordinator publishes, another receives (as two IDE windows
 * would). Throughput is measured saturated but with a bounded backlog; latency at a steady rate
 * below saturation, which is what a coordinator sees in practice. Bounded in events and time, so
 * it always ends; it returns rows and prints nothing. A second set of rows runs the same load with
 * the PostgreSQL archive on (bench/bus-archive.ts).
 */
import { benchArchivedBus } from '../bus-archive.js';
import { CONNECT_TIMEOUT_MS, dropStream, latency, makeBus, throughput, until } from '../bus-load.js';
import type { BenchRow, SectionContext } from '../types.js';

/** The plain bus rows, then the same load with the PostgreSQL archive on (issue 13). */
export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  if (!ctx.redisUrl) throw new Error('bus: no redis-server for this section');
  const rows = await benchBus(ctx.redisUrl);
  ctx.log('with the PostgreSQL archive on');
  return [...rows, ...(await benchArchivedBus(ctx.redisUrl, ctx.log))];
}

export async function benchBus(redisUrl: string): Promise<BenchRow[]> {
  const prefix = `bench:${process.pid}:${Date.now()}:`;
  const publisher = makeBus(redisUrl, prefix, 'bench-publisher');
  const subscriber = makeBus(redisUrl, prefix, 'bench-subscriber');
  try {
    await until(
      () => publisher.status === 'connected' && subscriber.status === 'connected',
      CONNECT_TIMEOUT_MS,
    );
    const { eventsPerSecond } = await throughput({ publish: publisher, publisher, subscriber });
    const latencies = await latency({ publish: publisher, subscriber });
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

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
