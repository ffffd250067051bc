/**
 * Builds the coordination services — locks, tasks, agents, registry, shared state, cache
 * invalidation — over one store: Redis when a URL is given (one command connection, shared by all), memory otherwise. The event bus
 * is built by the caller (`createBus`) and passed in, so the server and a library client can
 * share this assembly.
 */
import { randomUUID } from 'node:crypto';

import { silentLogger, type Logger } from '../shared/logger.js';
import { MemoryAgentBackend } from './agents/memory.js';
import { CacheInvalidation } from './cache-invalidation.js';
import type { AgentBackend } from './agents/types.js';
import { Agents } from './agents/service.js';
import { MemoryLockBackend } from './locks/memory.js';
import { Locks } from './locks/service.js';
import type { LockBackend } from './locks/types.js';
import { MemoryRegistryBackend } from './registry/memory.js';
import { Registry } from './registry/service.js';
import type { RegistryBackend } from './registry/types.js';
import { MemoryStateBackend } from './state/memory.js';
import { SharedState } from './state/service.js';
import type { StateBackend } from './state/types.js';
import { isRedisConfigured, type RedisTarget } from './redis-target.js';
import { MemoryTaskBackend } from './tasks/memory.js';
import { Tasks, type TaskChange } from './tasks/service.js';
import type { TaskBackend } from './tasks/types.js';
import { systemClock, type Clock, type EventBus } from './types.js';
import type { Archive, ArchiveStats, ArchiveStatus } from './archive/types.js';
import { watchForLostTasks } from './archive/restore.js';

export { Agents } from './agents/service.js';
export { CacheInvalidation, compileCachePattern, type InvalidatableCache } from './cache-invalidation.js';
export { SharedState } from './state/service.js';
export type { StateEntry } from './state/types.js';
export { AGENT_STATUSES, type AgentRecord, type AgentStatus, type ClientInfo } from './agents/types.js';
export { Locks, type UnlockCause } from './locks/service.js';
export type { AcquireResult, LockRecord, PublicLock, ReleaseResult } from './locks/types.js';
export { normalizeLockPath } from './paths.js';
export { Registry } from './registry/service.js';
export type { ServerRegistration, ServerRegistryEntry } from './registry/types.js';
export { Tasks } from './tasks/service.js';
export type {
  ClaimResult,
  CreateResult,
  FinishResult,
  LogStepResult,
  TaskRecord,
  TaskStatus,
  TaskStep,
} from './tasks/types.js';
export { ArchivedBus, openArchive, type Archive, type ArchiveStats } from './archive/index.js';
export { coordinationTools, type CoordinationTool, type CoordinationToolDeps } from './tools.js';

export interface CoordinationOptions {
  /** Empty or absent: everything in memory, for this process only. */
  /** A redis:// URL (empty: in-memory backends), or a Cluster or Sentinel target. */
  redisUrl?: RedisTarget;
  prefix: string;
  lockTtlMs: number;
  agentTtlMs: number;
  workspaceRoot: string;
  bus: EventBus;
  /** This coordinator's instance id (event source, registry owner, agent records). */
  source: string;
  /**
   * This process's owner token: the session part of the holder of the locks and claims its
   * sessions take (see locks/types.ts). Default: a fresh random one.
   */
  owner?: string;
  /** `coordination.secret`: registry entries are signed and checked like events. */
  secret?: string;
  logger?: Logger;
  clock?: Clock;
  /**
   * The durable record (`openArchive`): task changes and steps are queued for it, and tasks are
   * restored from it when Redis lost them. Closed by `close()`, last (after `agent:left`).
   */
  archive?: Archive;
  /** How often to look for a tasks hash Redis lost (RESTORE_CHECK_MS). */
  restoreCheckMs?: number;
}

export interface Coordination {
  readonly locks: Locks;
  readonly tasks: Tasks;
  readonly agents: Agents;
  readonly registry: Registry;
  readonly state: SharedState;
  readonly caches: CacheInvalidation;
  readonly workspaceRoot: string;
  readonly lockTtlMs: number;
  /** This process's owner token: pass it with the agent id to act as this process's session. */
  readonly owner: string;
  /** The shared store as health reports it. */
  redisStatus(): 'connected' | 'disconnected' | 'disabled';
  /** PostgreSQL (`coordination.postgres`) as health reports it. */
  postgresStatus(): ArchiveStatus;
  /** Backlog, drops, lag of the durable record; undefined without one. */
  archiveStats(): ArchiveStats | undefined;
  /** Leave (announcing `agent:left`, releasing holdings), drop our registry entries, disconnect. */
  close(): Promise<void>;
}

/**
 * Async only to wait (briefly, STORE_DEFAULTS.readyTimeoutMs) for the first Redis connection;
 * when Redis is down it resolves anyway, and operations fail fast until it is back.
 */
export async function createCoordination(options: CoordinationOptions): Promise<Coordination> {
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child('coordination');
  const redisUrl = typeof options.redisUrl === 'string' ? options.redisUrl.trim() : options.redisUrl;
  // ioredis is loaded only when Redis is configured.
  const store = isRedisConfigured(redisUrl)
    ? await (await import('./redis-backends.js')).openRedisStore(redisUrl, options.prefix, logger)
    : undefined;
  const backends = store ? store.backends : memoryBackends(clock);

  const { archive } = options;
  const owner = options.owner ?? randomUUID();
  const services = assembleServices(backends, {
    ...options,
    owner,
    clock,
    logger,
    ...(archive && {
      onTaskChange: ({ task, step }) => {
        archive.record({ kind: 'task', task });
        if (step) archive.record({ kind: 'step', step });
      },
    }),
  });
  // Restoring needs a shared store to restore into: the memory store starts empty with every
  // process, and each process restoring its own copy would hand one task to several agents.
  const stopWatching =
    archive && store
      ? watchForLostTasks(services.tasks, archive, {
          logger,
          ...(options.restoreCheckMs !== undefined && { intervalMs: options.restoreCheckMs }),
        })
      : undefined;
  let closing: Promise<void> | undefined;
  const close = async () => {
    stopWatching?.();
    await services.close();
    await store?.quit();
    await archive?.close();
  };

  return {
    ...services,
    workspaceRoot: options.workspaceRoot,
    lockTtlMs: options.lockTtlMs,
    owner,
    redisStatus: () => store?.status() ?? 'disabled',
    postgresStatus: () => archive?.status ?? 'disabled',
    archiveStats: () => archive?.stats(),
    close: () => (closing ??= close()),
  };
}

export interface CoordinationBackends {
  locks: LockBackend;
  tasks: TaskBackend;
  agents: AgentBackend;
  registry: RegistryBackend;
  state: StateBackend;
}

export interface CoordinationServices {
  readonly locks: Locks;
  readonly tasks: Tasks;
  readonly agents: Agents;
  readonly registry: Registry;
  readonly state: SharedState;
  readonly caches: CacheInvalidation;
  /** Leave, drop our registry entries, stop timers; the store connection is the caller's. */
  close(): Promise<void>;
}

/** The services over given backends (shared by createCoordination and the contract tests). */
export function assembleServices(
  backends: CoordinationBackends,
  options: Pick<CoordinationOptions, 'bus' | 'source' | 'owner' | 'lockTtlMs' | 'agentTtlMs' | 'secret'> & {
    clock: Clock;
    logger: Logger;
    onTaskChange?: (change: TaskChange) => void;
  },
): CoordinationServices {
  const { bus, source, clock, logger } = options;
  const locks = new Locks({ backend: backends.locks, bus, clock, logger });
  const tasks = new Tasks({
    backend: backends.tasks,
    locks,
    bus,
    lockTtlMs: options.lockTtlMs,
    clock,
    logger,
    ...(options.onTaskChange && { onChange: options.onTaskChange }),
  });
  const agents = new Agents({
    backend: backends.agents,
    bus,
    locks,
    tasks,
    source,
    ...(options.owner !== undefined && { owner: options.owner }),
    ttlMs: options.agentTtlMs,
    clock,
    logger,
  });
  const registry = new Registry({
    backend: backends.registry,
    bus,
    owner: source,
    clock,
    ...(options.secret !== undefined && { secret: options.secret }),
    logger,
  });
  const state = new SharedState({ backend: backends.state, bus });
  const caches = new CacheInvalidation({ bus, source, logger });
  return {
    locks,
    tasks,
    agents,
    registry,
    state,
    caches,
    close: async () => {
      caches.close();
      await agents.leave();
      await registry
        .removeOwned()
        .catch((error: unknown) => logger.debug('registry cleanup skipped', { error }));
      agents.close();
      tasks.close();
      locks.close();
    },
  };
}

export function memoryBackends(clock: Clock = systemClock): CoordinationBackends {
  const locks = new MemoryLockBackend(clock);
  return {
    locks,
    tasks: new MemoryTaskBackend(locks),
    agents: new MemoryAgentBackend(clock),
    registry: new MemoryRegistryBackend(),
    state: new MemoryStateBackend(clock),
  };
}
