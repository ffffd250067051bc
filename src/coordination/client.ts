/**
 * The library face of coordination for other Node services (a backend, a dashboard): the same
 * bus, locks and tasks the coordinator uses, over the same Redis, with one agent id. Nothing here
 * is reimplemented; it is `createBus` + `createCoordination` behind a small typed API.
 *
 * ```ts
 * const client = await CoordinationClient.connect({ redisUrl, prefix: 'mcp:', agentId: 'ci-bot' });
 * const lock = await client.lock('src/app.ts', { reason: 'formatting' });
 * client.subscribe((event) => onEvent(event), 'file:*');
 * await client.close();
 * ```
 */
import type { RedisTarget } from './redis-target.js';
import { randomUUID } from 'node:crypto';

import { silentLogger, type Logger } from '../shared/logger.js';
import type { ClientInfo } from './agents/types.js';
import { createBus } from './bus/index.js';
import { createCoordination, type Coordination } from './index.js';
import type { AcquireResult, PublicLock, ReleaseResult } from './locks/types.js';
import { publicLock } from './locks/types.js';
import { normalizeLockPath } from './paths.js';
import type { ServerRegistryEntry } from './registry/types.js';
import {
  publicTask,
  type ClaimResult,
  type FinishResult,
  type TaskRecord,
  type TaskStatus,
} from './tasks/types.js';
import type { BusStatus, CoordinationEvent, EventBus, EventType, ReplayOptions } from './types.js';

export const CLIENT_DEFAULTS = {
  lockTtlMs: 60_000,
  agentTtlMs: 30_000,
  streamMaxLen: 10_000,
} as const;

export interface CoordinationClientOptions {
  /** Empty: an in-process bus and store (useful in tests only; nobody else sees them). */
  /** A redis:// URL, or a Cluster / Sentinel target. */
  redisUrl: RedisTarget;
  prefix: string;
  agentId: string;
  /** HMAC secret shared with the coordinators when they sign events. */
  secret?: string;
  /** Root that lock paths are relative to; defaults to the current directory. */
  workspaceRoot?: string;
  lockTtlMs?: number;
  agentTtlMs?: number;
  streamMaxLen?: number;
  /** Announced with `agent:registered`. */
  clientInfo?: ClientInfo;
  /** Register as an agent (heartbeats; locks and tasks released on close). Default true. */
  register?: boolean;
  logger?: Logger;
}

export class CoordinationClient {
  private constructor(
    readonly agentId: string,
    private readonly bus: EventBus,
    private readonly coordination: Coordination,
  ) {}

  static async connect(options: CoordinationClientOptions): Promise<CoordinationClient> {
    const logger = options.logger ?? silentLogger;
    const source = `client-${options.agentId}-${randomUUID().slice(0, 8)}`;
    const bus = await createBus({
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      streamMaxLen: options.streamMaxLen ?? CLIENT_DEFAULTS.streamMaxLen,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      source,
      agentId: options.agentId,
      logger,
    });
    const coordination = await createCoordination({
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      lockTtlMs: options.lockTtlMs ?? CLIENT_DEFAULTS.lockTtlMs,
      agentTtlMs: options.agentTtlMs ?? CLIENT_DEFAULTS.agentTtlMs,
      workspaceRoot: options.workspaceRoot ?? process.cwd(),
      bus,
      source,
      logger,
    });
    if (options.register !== false) {
      await coordination.agents.register(
        options.agentId,
        options.clientInfo ?? { name: 'mcp-coordinator-client' },
      );
    }
    return new CoordinationClient(options.agentId, bus, coordination);
  }

  publish(type: EventType, data: Record<string, unknown>): CoordinationEvent {
    return this.bus.publish({ type, data, agentId: this.agentId });
  }

  /** Live events whose type matches `typeGlob` (default all). Returns the unsubscribe function. */
  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void {
    return this.bus.subscribe(handler, typeGlob);
  }

  replay(options?: ReplayOptions): Promise<CoordinationEvent[]> {
    return this.bus.replay(options);
  }

  lock(file: string, options: { reason?: string; ttlMs?: number } = {}): Promise<AcquireResult> {
    return this.coordination.locks.acquire(this.path(file), this.agentId, {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ttlMs: options.ttlMs ?? this.coordination.lockTtlMs,
      owner: this.coordination.owner,
    });
  }

  unlock(file: string): Promise<ReleaseResult> {
    return this.coordination.locks.release(this.path(file), this.agentId, this.coordination.owner);
  }

  claim(taskId: string, files: string[] = []): Promise<ClaimResult> {
    return this.coordination.tasks.claim(
      taskId,
      this.agentId,
      files.map((f) => this.path(f)),
      this.coordination.owner,
    );
  }

  complete(taskId: string, result?: unknown): Promise<FinishResult> {
    return this.coordination.tasks.complete(taskId, this.agentId, result, this.coordination.owner);
  }

  release(taskId: string): Promise<FinishResult> {
    return this.coordination.tasks.release(taskId, this.agentId, this.coordination.owner);
  }

  async listLocks(): Promise<PublicLock[]> {
    return (await this.coordination.locks.list()).map(publicLock);
  }

  async listTasks(status?: TaskStatus): Promise<TaskRecord[]> {
    return (await this.coordination.tasks.list(status)).map(publicTask);
  }

  /** Servers every coordinator on this Redis runs, marked by owner. */
  listServers(): Promise<ServerRegistryEntry[]> {
    return this.coordination.registry.list();
  }

  status(): { store: 'connected' | 'disconnected' | 'disabled'; bus: BusStatus } {
    return { store: this.coordination.redisStatus(), bus: this.bus.status };
  }

  /** Leave (releasing this agent's locks and tasks), then disconnect. */
  async close(): Promise<void> {
    await this.coordination.close();
    await this.bus.close();
  }

  private path(file: string): string {
    return normalizeLockPath(file, this.coordination.workspaceRoot);
  }
}
