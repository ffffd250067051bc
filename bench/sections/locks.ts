/**
 * Lock round trip on a loopback Redis: one acquire (Lua, SET NX PX) plus one release (Lua,
 * compare and DEL), sequential, through the same Locks service the coordinator uses. Events go to
 * a no-op bus so the figure is the store's, not the bus's. Bounded in samples and time; returns
 * rows, prints nothing.
 */
import { RedisLockBackend } from '../../src/coordination/locks/redis.js';
import { connectStore, waitReady } from '../../src/coordination/locks/redis-store.js';
import { Locks } from '../../src/coordination/locks/service.js';
import { scanKeys, type RedisClient } from '../../src/coordination/redis-connect.js';
import { describeTarget, storeKeyPrefix, type RedisTarget } from '../../src/coordination/redis-target.js';
import type { CoordinationEvent, EventBus } from '../../src/coordination/types.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedisCluster } from '../../test/helpers/redis-cluster.js';
import type { BenchRow, SectionContext } from '../types.js';

const WARMUP = 500;
const SAMPLES = 10_000;
const TIME_LIMIT_MS = 8_000;
const FILES = 64;

/** `label` names the target in the rows ('' for the single node); the p50 target is `p50Target` ms. */
export async function benchLocks(
  redisUrl: RedisTarget,
  samples: number = SAMPLES,
  label = '',
  p50Target = 0.5,
): Promise<BenchRow[]> {
  const redis = connectStore(redisUrl, silentLogger);
  const prefix = storeKeyPrefix(redisUrl, `bench:${process.pid}:${Date.now()}:`);
  const locks = new Locks({ backend: new RedisLockBackend(redis, prefix), bus: noopBus() });
  try {
    if (!(await waitReady(redis, 10_000)))
      throw new Error(`redis not reachable at ${describeTarget(redisUrl)}`);
    const roundTrip = async (i: number) => {
      const file = `src/file-${i % FILES}.ts`;
      const acquired = await locks.acquire(file, 'bench-agent', { ttlMs: 60_000 });
      if (!acquired.ok) throw new Error(`bench lock refused on ${file}`);
      const released = await locks.release(file, 'bench-agent');
      if (!released.ok) throw new Error(`bench release refused on ${file}`);
    };
    for (let i = 0; i < WARMUP; i++) await roundTrip(i);
    const times: number[] = [];
    const deadline = performance.now() + TIME_LIMIT_MS;
    for (let i = 0; i < samples && performance.now() < deadline; i++) {
      const started = performance.now();
      await roundTrip(i);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p50 = nearestRank(times, 0.5);
    const p99 = nearestRank(times, 0.99);
    return [
      {
        name: `lock acquire+release p50${label}`,
        value: round(p50),
        unit: 'ms',
        target: `<= ${p50Target}`,
        pass: p50 <= p50Target,
      },
      {
        name: `lock acquire+release p99${label}`,
        value: round(p99),
        unit: 'ms',
        target: '<= 2',
        pass: p99 <= 2,
      },
      { name: `lock round trips measured${label}`, value: times.length, unit: 'count' },
    ];
  } finally {
    locks.close();
    await cleanup(redis, prefix);
  }
}

/** The runner's entry point: bench/section-loader.ts calls `run(ctx)`. */
export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  if (!ctx.redisUrl) throw new Error('no redis-server for the locks section');
  const samples = ctx.quick ? 2_000 : SAMPLES;
  const rows = await benchLocks(ctx.redisUrl, samples);
  // The same round trip on a three-master Cluster started here (the store's keys in one slot).
  const cluster = await startRedisCluster(3, 0);
  try {
    rows.push(...(await benchLocks({ cluster: cluster.urls }, samples, ' (3-master cluster)', 1)));
  } finally {
    await cluster.stop();
  }
  return rows;
}

function nearestRank(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function round(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}

async function cleanup(redis: RedisClient, prefix: string): Promise<void> {
  try {
    const keys = await scanKeys(redis, `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    // One slot on a Cluster (the prefix's hash tag), so one DEL.
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

export function noopBus(): EventBus {
  let n = 0;
  return {
    status: 'disabled',
    publish: (input): CoordinationEvent => ({
      id: String(++n),
      type: input.type,
      source: 'bench',
      agentId: input.agentId ?? 'bench-agent',
      data: input.data,
      timestamp: '',
    }),
    subscribe: () => () => {},
    replay: async () => [],
    stats: () => ({ published: n, delivered: 0, dropped: 0, rejected: 0, buffered: 0 }),
    close: async () => {},
  };
}
