/**
 * Tasks as the coordinator sees them: a TaskBackend plus `task:*` events (and `file:*` events for
 * the files, through Locks so they share one shape and the expiry watch).
 *
 * File locks of a claimed task carry the normal lock TTL, but a task can take far longer than
 * that; so while this coordinator runs, it renews the locks of the tasks it claimed every third
 * of the TTL. If the coordinator dies, renewals stop and the locks expire; the agent's tasks are
 * then released by whoever notices the agent is gone (see ../agents).
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import type { Locks, UnlockCause } from '../locks/service.js';
import type { LockRecord } from '../locks/types.js';
import { systemClock, type Clock, type EventBus } from '../types.js';
import type { ClaimResult, FinishResult, TaskBackend, TaskRecord, TaskStatus } from './types.js';

/**
 * Largest task result stored (its JSON): a result is a summary for the next agent, and every
 * `list_tasks` carries it; a 2 MB result made one agent's list a 12 MB line for everyone.
 */
export const MAX_TASK_RESULT_BYTES = 64 * 1024;

export interface TasksOptions {
  backend: TaskBackend;
  locks: Locks;
  bus: EventBus;
  lockTtlMs: number;
  clock?: Clock;
  logger?: Logger;
}

export class Tasks {
  private readonly backend: TaskBackend;
  private readonly locks: Locks;
  private readonly bus: EventBus;
  private readonly lockTtlMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Tasks claimed through this coordinator: taskId → claimer. Their locks get renewed. */
  private readonly held = new Map<string, string>();
  private cancelRenewal: (() => void) | undefined;
  private closed = false;

  constructor(options: TasksOptions) {
    this.backend = options.backend;
    this.locks = options.locks;
    this.bus = options.bus;
    this.lockTtlMs = options.lockTtlMs;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child('tasks');
  }

  async claim(taskId: string, agentId: string, files: string[] = []): Promise<ClaimResult> {
    assertTaskId(taskId);
    const result = await this.backend.claim(taskId, agentId, files, this.lockTtlMs);
    if (!result.ok) return result;
    for (const { lock, extended } of result.locks) {
      this.locks.announceLocked(lock, { extended, ttlMs: this.lockTtlMs });
    }
    if (!result.reclaimed) {
      this.bus.publish({
        type: 'task:claimed',
        agentId,
        data: { taskId, agentId, files: result.task.files, claimedAt: result.task.claimedAt },
      });
    }
    this.held.set(taskId, agentId);
    this.scheduleRenewal();
    return result;
  }

  async complete(taskId: string, agentId: string, result?: unknown): Promise<FinishResult> {
    assertTaskId(taskId);
    const bytes = result === undefined ? 0 : Buffer.byteLength(JSON.stringify(result) ?? '');
    if (bytes > MAX_TASK_RESULT_BYTES) {
      throw new InvalidArgumentError(
        `result: ${bytes} bytes of JSON; a task result may be at most ${MAX_TASK_RESULT_BYTES} bytes ` +
          '(store large output elsewhere and put a reference in the result)',
      );
    }
    const outcome = await this.backend.finish(taskId, agentId, 'completed', result);
    if (outcome.ok) this.announceClosed(outcome.task, outcome.releasedLocks, 'task_completed');
    return outcome;
  }

  async release(taskId: string, agentId: string): Promise<FinishResult> {
    assertTaskId(taskId);
    const outcome = await this.backend.finish(taskId, agentId, 'released');
    if (outcome.ok) this.announceClosed(outcome.task, outcome.releasedLocks, 'task_released');
    return outcome;
  }

  /** Release every task `agentId` holds, wherever it was claimed (the agent left or died). */
  async releaseAllFor(agentId: string): Promise<TaskRecord[]> {
    const closed = await this.backend.releaseAllFor(agentId);
    for (const { task, releasedLocks } of closed) this.announceClosed(task, releasedLocks, 'agent_left');
    return closed.map(({ task }) => task);
  }

  get(taskId: string): Promise<TaskRecord | undefined> {
    return this.backend.get(taskId);
  }

  list(status?: TaskStatus): Promise<TaskRecord[]> {
    return this.backend.list(status);
  }

  /** Extend the file locks of the tasks this coordinator claimed and that are still claimed. */
  async renewLocks(): Promise<void> {
    for (const [taskId, agentId] of [...this.held]) {
      const task = await this.backend.get(taskId);
      if (!task || task.status !== 'claimed' || task.agentId !== agentId) {
        this.held.delete(taskId);
        continue;
      }
      for (const file of task.files) {
        const lock = await this.locks.extend(file, agentId, this.lockTtlMs);
        if (!lock) this.logger.warn('task lost the lock on a file', { taskId, file, agentId });
      }
    }
  }

  close(): void {
    this.closed = true;
    this.cancelRenewal?.();
    this.cancelRenewal = undefined;
  }

  private announceClosed(task: TaskRecord, releasedLocks: LockRecord[], cause: UnlockCause): void {
    this.held.delete(task.taskId);
    // The task's updatedAt is the instant its files were released (same script, same clock).
    for (const lock of releasedLocks) this.locks.announceUnlocked(lock, cause, task.updatedAt);
    const data = { taskId: task.taskId, agentId: task.agentId, files: task.files };
    if (task.status === 'completed') {
      this.bus.publish({
        type: 'task:completed',
        agentId: task.agentId,
        data: { ...data, ...(task.result !== undefined ? { result: task.result } : {}) },
      });
    } else {
      this.bus.publish({
        type: 'task:released',
        agentId: task.agentId,
        data: { ...data, cause: cause === 'agent_left' ? 'agent_left' : 'released' },
      });
    }
  }

  private scheduleRenewal(): void {
    if (this.closed || this.cancelRenewal !== undefined) return;
    this.cancelRenewal = this.clock.setTimer(
      () => {
        this.cancelRenewal = undefined;
        this.renewLocks()
          .catch((error: unknown) => this.logger.debug('task lock renewal deferred', { error }))
          .finally(() => {
            if (this.held.size > 0) this.scheduleRenewal();
          });
      },
      Math.max(1, Math.floor(this.lockTtlMs / 3)),
    );
  }
}

function assertTaskId(taskId: string): void {
  if (typeof taskId !== 'string' || taskId.trim() === '') {
    throw new InvalidArgumentError('taskId: expected a non-empty string');
  }
}
