/**
 * Locks as the rest of the coordinator sees them: a LockBackend (memory or Redis) plus the events
 * (`file:locked`, `file:unlocked`, `file:lock_expired`) and the expiry watch. Task claims lock
 * files through their own atomic script and announce them here, so every lock event has one shape.
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { systemClock, type Clock, type CoordinationEvent, type EventBus } from '../types.js';
import { LockExpiryWatcher } from './expiry-watcher.js';
import {
  heldBy,
  type AcquireOptions,
  type AcquireResult,
  type LockBackend,
  type LockRecord,
  type ReleaseResult,
} from './types.js';

/** Why a lock went away, carried in `file:unlocked` events. */
export type UnlockCause = 'released' | 'task_completed' | 'task_released' | 'agent_left';

export interface LocksOptions {
  backend: LockBackend;
  bus: EventBus;
  clock?: Clock;
  logger?: Logger;
}

export class Locks {
  private readonly backend: LockBackend;
  private readonly bus: EventBus;
  private readonly watcher: LockExpiryWatcher;
  private readonly unsubscribe: () => void;

  constructor(options: LocksOptions) {
    this.backend = options.backend;
    this.bus = options.bus;
    this.watcher = new LockExpiryWatcher({
      get: (file) => this.backend.get(file),
      onExpired: (lock) => this.announceExpired(lock),
      clock: options.clock ?? systemClock,
      logger: (options.logger ?? silentLogger).child('locks'),
    });
    // A lock released through another coordinator must not be reported as expired by this one.
    this.unsubscribe = this.bus.subscribe((event) => this.onUnlocked(event), 'file:unlocked');
  }

  async acquire(file: string, agentId: string, options: AcquireOptions): Promise<AcquireResult> {
    assertTtl(options.ttlMs);
    const result = await this.backend.acquire(file, agentId, options);
    if (result.ok) this.announceLocked(result.lock, { extended: result.extended, ttlMs: options.ttlMs });
    return result;
  }

  /** `owner`: the caller's owner token (see locks/types.ts); only the holder releases. */
  async release(file: string, agentId: string, owner?: string): Promise<ReleaseResult> {
    const result = await this.backend.release(file, agentId, owner);
    if (result.ok) this.announceUnlocked(result.lock, 'released', result.releasedAt);
    return result;
  }

  /** Quietly push the expiry out (task renewals): no event, the watch follows. */
  async extend(
    file: string,
    agentId: string,
    ttlMs: number,
    owner?: string,
  ): Promise<LockRecord | undefined> {
    assertTtl(ttlMs);
    const lock = await this.backend.extend(file, agentId, ttlMs, owner);
    if (lock) this.watcher.track(lock);
    return lock;
  }

  get(file: string): Promise<LockRecord | undefined> {
    return this.backend.get(file);
  }

  getMany(files: readonly string[]): Promise<Map<string, LockRecord>> {
    return this.backend.getMany([...new Set(files)]);
  }

  list(): Promise<LockRecord[]> {
    return this.backend.list();
  }

  /**
   * Release the locks `agentId` holds (an agent leaving): with `owner`, only those of that session
   * (and the agent's locks without an owner); without, those of every session of the agent (its
   * heartbeat stopped everywhere).
   */
  async releaseAllHeldBy(
    agentId: string,
    cause: UnlockCause = 'agent_left',
    owner?: string,
  ): Promise<LockRecord[]> {
    const released: LockRecord[] = [];
    for (const lock of await this.backend.list()) {
      if (owner !== undefined ? !heldBy(lock, agentId, owner) : lock.holder !== agentId) continue;
      const result = await this.backend.release(lock.file, agentId, owner ?? lock.owner);
      if (!result.ok) continue;
      this.announceUnlocked(result.lock, cause, result.releasedAt);
      released.push(result.lock);
    }
    return released;
  }

  announceLocked(lock: LockRecord, extra: { extended: boolean; ttlMs: number }): void {
    this.watcher.track(lock);
    this.bus.publish({
      type: 'file:locked',
      agentId: lock.holder,
      data: {
        file: lock.file,
        holder: lock.holder,
        ...(lock.reason !== undefined ? { reason: lock.reason } : {}),
        ...(lock.taskId !== undefined ? { taskId: lock.taskId } : {}),
        acquiredAt: lock.acquiredAt,
        expiresAt: lock.expiresAt,
        ttlMs: extra.ttlMs,
        extended: extra.extended,
      },
    });
  }

  /** `releasedAt` (store clock) closes the interval that `acquiredAt` opened, for history checks. */
  announceUnlocked(lock: LockRecord, cause: UnlockCause, releasedAt: string): void {
    this.watcher.forget(lock.file, lock.holder, lock.acquiredAt);
    this.bus.publish({
      type: 'file:unlocked',
      agentId: lock.holder,
      data: {
        file: lock.file,
        holder: lock.holder,
        cause,
        acquiredAt: lock.acquiredAt,
        releasedAt,
        ...(lock.taskId !== undefined ? { taskId: lock.taskId } : {}),
      },
    });
  }

  /** Files whose expiry this coordinator is watching. */
  watchedFiles(): string[] {
    return this.watcher.files();
  }

  close(): void {
    this.unsubscribe();
    this.watcher.close();
  }

  private announceExpired(lock: LockRecord): void {
    this.bus.publish({
      type: 'file:lock_expired',
      agentId: lock.holder,
      data: {
        file: lock.file,
        holder: lock.holder,
        ...(lock.taskId !== undefined ? { taskId: lock.taskId } : {}),
        acquiredAt: lock.acquiredAt,
        expiresAt: lock.expiresAt,
      },
    });
  }

  private onUnlocked(event: CoordinationEvent): void {
    const { file, holder, acquiredAt } = event.data;
    if (typeof file === 'string' && typeof holder === 'string' && typeof acquiredAt === 'string') {
      this.watcher.forget(file, holder, acquiredAt);
    }
  }
}

function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new InvalidArgumentError(`ttlMs: expected a positive integer, got ${String(ttlMs)}`);
  }
}
