/**
 * Environments for the lock, task, agent and registry contract suites. An environment is one
 * shared store; each `peer()` is a coordinator on it (own services, own bus). Memory peers share
 * the memory backends and one memory bus (what "several coordinators" can mean in one process);
 * Redis peers each get their own command connection and Redis bus on a real redis-server, as
 * separate coordinator processes would. `events` sees every event any peer published.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { createBus } from '../../src/coordination/bus/index.js';
import {
  assembleServices,
  memoryBackends,
  type CoordinationBackends,
  type CoordinationServices,
} from '../../src/coordination/index.js';
import { connectStore, waitReady } from '../../src/coordination/locks/redis-store.js';
import { redisBackends } from '../../src/coordination/redis-backends.js';
import type { RedisClient } from '../../src/coordination/redis-connect.js';
import { storeKeyPrefix, type RedisTarget } from '../../src/coordination/redis-target.js';
import type { CoordinationEvent, EventBus, EventType } from '../../src/coordination/types.js';
import { systemClock } from '../../src/coordination/types.js';
import { silentLogger } from '../../src/shared/logger.js';

export interface PeerOptions {
  lockTtlMs?: number;
  agentTtlMs?: number;
  /** The peer's owner token (a coordinator process's): its agents leaving free only its holdings. */
  owner?: string;
}

export interface Peer extends CoordinationServices {
  source: string;
  bus: EventBus;
  /** Stop this peer as a crash would: timers stop, nothing is released or announced. */
  crash(): Promise<void>;
}

export interface EventLog {
  readonly all: CoordinationEvent[];
  ofType(type: EventType): CoordinationEvent[];
  waitFor(
    check: (e: CoordinationEvent) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<CoordinationEvent>;
  /** Give in-flight events time to arrive (a Redis round trip), then return what arrived. */
  settle(ms?: number): Promise<CoordinationEvent[]>;
  /** The recorded history (Redis: the stream), oldest first. */
  replay(): Promise<CoordinationEvent[]>;
}

export interface CoordinationEnv {
  readonly kind: 'memory' | 'redis';
  peer(options?: PeerOptions): Promise<Peer>;
  events: EventLog;
  cleanup(): Promise<void>;
}

export type MakeEnv = () => Promise<CoordinationEnv>;

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function eventLog(bus: EventBus): EventLog & { stop(): void } {
  const all: CoordinationEvent[] = [];
  const stop = bus.subscribe((e) => all.push(e));
  return {
    all,
    stop,
    ofType: (type) => all.filter((e) => e.type === type),
    async waitFor(check, what, timeoutMs = 5_000) {
      await waitUntil(() => all.some(check), what, timeoutMs);
      return all.find(check)!;
    },
    async settle(ms = 50) {
      await sleep(ms);
      return all;
    },
    replay: () => bus.replay(),
  };
}

const DEFAULT_PEER = { lockTtlMs: 60_000, agentTtlMs: 30_000 };

function makePeer(
  backends: CoordinationBackends,
  bus: EventBus,
  options: PeerOptions,
  onClose: () => Promise<void>,
): Peer {
  const source = `coord-${randomUUID().slice(0, 6)}`;
  const services = assembleServices(backends, {
    ...DEFAULT_PEER,
    ...options,
    bus,
    source,
    clock: systemClock,
    logger: silentLogger,
  });
  return {
    ...services,
    source,
    bus,
    close: async () => {
      await services.close();
      await onClose();
    },
    crash: async () => {
      services.agents.close();
      services.tasks.close();
      services.locks.close();
      await onClose();
    },
  };
}

export const memoryEnv: MakeEnv = async () => {
  const backends = memoryBackends();
  const bus = await createBus({
    prefix: 'mcp:',
    streamMaxLen: 10_000,
    source: 'memory',
    agentId: '-',
    logger: silentLogger,
  });
  const events = eventLog(bus);
  return {
    kind: 'memory',
    events,
    peer: async (options = {}) => makePeer(backends, bus, options, async () => {}),
    cleanup: async () => {
      events.stop();
      await bus.close();
    },
  };
};

let envCount = 0;

/** Over one Redis: a URL, or a Cluster / Sentinel target (keys then carry the store's hash tag). */
export function redisEnv(url: () => RedisTarget): MakeEnv {
  return async () => {
    const prefix = `c${++envCount}-${randomUUID().slice(0, 4)}:mcp:`;
    const closers: Array<() => Promise<void>> = [];
    const connectBus = async (source: string) => {
      const bus = await createBus({
        redisUrl: url(),
        prefix,
        streamMaxLen: 10_000,
        source,
        agentId: '-',
        logger: silentLogger,
      });
      await waitUntil(() => bus.status === 'connected', 'bus connected');
      return bus;
    };
    const observer = await connectBus('observer');
    const events = eventLog(observer);
    return {
      kind: 'redis',
      events,
      peer: async (options = {}) => {
        const redis: RedisClient = connectStore(url(), silentLogger);
        if (!(await waitReady(redis))) throw new Error('test redis not reachable');
        const bus = await connectBus('peer');
        let closed = false;
        const close = async () => {
          if (closed) return;
          closed = true;
          await bus.close();
          redis.disconnect();
        };
        closers.push(close);
        return makePeer(redisBackends(redis, storeKeyPrefix(url(), prefix)), bus, options, close);
      },
      cleanup: async () => {
        for (const close of closers.splice(0)) await close();
        events.stop();
        await observer.close();
      },
    };
  };
}
