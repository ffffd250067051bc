/**
 * Tasks as the coordinator sees them: a TaskBackend plus `task:*` events (and `file:*` events for
 * the files, through Locks so they share one shape and the expiry watch).
 *
 * File locks of a claimed task carry the normal lock TTL, but a task can take far longer than
 * that; so while this coordinator runs, it renews the locks of the tasks it claimed every third
 * of the TTL. If the coordinator dies, renewals stop and the locks expire; the agent's tasks are
 * then released by whoever notices the agent is gone (see ../agents).
 */
import { randomUUID } from 'node:crypto';

import { InvalidArgumentError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { assertJsonBytes, LIMITS } from '../limits.js';
import type { Locks, UnlockCause } from '../locks/service.js';
import { heldBy, type LockRecord } from '../locks/types.js';
import { systemClock, type Clock, type EventBus } from '../types.js';
import { parseArgs } from '../validate.js';
import { taskSpecSchema, type TaskSpecInput } from './board.js';
import {
  claimedBy,
  type ClaimResult,
  type CreateResult,
  type FinishResult,
  type LogStepResult,
  type TaskBackend,
  type TaskRecord,
  type TaskStatus,
  type TaskStep,
} from './types.js';

/** A file someone else holds, as detect_conflicts reports it. */
export interface FileConflict {
  file: string;
  holder: string;
  /** `task`: locked by a task claim (`taskId` names it); `lock`: by lock_file. */
  kind: 'lock' | 'task';
  taskId?: string;
}

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
  /**
   * Told every task change (the record after it) and every step, synchronously; it must not wait
   * (the durable record queues them).
   */
  onChange?: (change: TaskChange) => void;
}

export type TaskChange = { task: TaskRecord; step?: TaskStep };

export class Tasks {
  private readonly backend: TaskBackend;
  private readonly locks: Locks;
  private readonly bus: EventBus;
  private readonly lockTtlMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Tasks claimed through this coordinator: taskId → claimer (and its owner). Their locks get renewed. */
  private readonly held = new Map<string, { agentId: string; owner: string | undefined }>();
  private cancelRenewal: (() => void) | undefined;
  private closed = false;
  private holdingsListeners: Array<(agentId: string, holds: boolean) => Promise<void>> = [];

  constructor(private readonly options: TasksOptions) {
    this.backend = options.backend;
    this.locks = options.locks;
    this.bus = options.bus;
    this.lockTtlMs = options.lockTtlMs;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child('tasks');
  }

  private changed(task: TaskRecord, step?: TaskStep): void {
    if (!this.options.onChange) return;
    try {
      this.options.onChange(step ? { task, step } : { task });
    } catch (error) {
      this.logger.error('task change listener threw', { taskId: task.taskId, error });
    }
  }

  /**
   * Told after each claim (holds: true) and each completion or release (holds: whether the agent
   * still holds a task claimed through this coordinator). Awaited, so a claim returns with the
   * agent's status already following it; a listener's failure is logged, never the claim's.
   */
  onHoldingsChanged(listener: (agentId: string, holds: boolean) => Promise<void>): void {
    this.holdingsListeners.push(listener);
  }

  private async holdingsChanged(agentId: string): Promise<void> {
    const holds = [...this.held.values()].some((h) => h.agentId === agentId);
    for (const listener of this.holdingsListeners) {
      await listener(agentId, holds).catch((error: unknown) =>
        this.logger.debug('holdings listener failed', { agentId, error }),
      );
    }
  }

  /** Put an open task on the board (`task:created`). Unknown or self dependencies are bad input. */
  async create(input: TaskSpecInput, agentId: string): Promise<CreateResult> {
    const parsed = parseArgs(taskSpecSchema, input);
    const spec = {
      taskId: parsed.taskId ?? randomUUID(),
      title: parsed.title,
      ...(parsed.description !== undefined ? { description: parsed.description } : {}),
      files: unique(parsed.files ?? []),
      capabilities: unique(parsed.capabilities ?? []),
      priority: parsed.priority ?? 0,
      dependsOn: unique(parsed.dependsOn ?? []),
    };
    assertTaskId(spec.taskId);
    if (spec.dependsOn.includes(spec.taskId)) {
      throw new InvalidArgumentError(
        `dependsOn: task ${JSON.stringify(spec.taskId)} cannot depend on itself`,
      );
    }
    // Dependencies must exist already and a task id is never reused, so no cycle can form.
    const result = await this.backend.create(spec, agentId);
    if (!result.ok && result.reason === 'unknown_dependency') {
      throw new InvalidArgumentError(
        `dependsOn: no task ${JSON.stringify(result.dependency)} exists (create it first)`,
      );
    }
    if (result.ok) {
      const { task } = result;
      this.changed(task);
      this.bus.publish({
        type: 'task:created',
        agentId,
        data: {
          taskId: task.taskId,
          title: task.title,
          files: task.files,
          capabilities: task.capabilities,
          priority: task.priority,
          dependsOn: task.dependsOn,
          createdAt: task.createdAt,
        },
      });
    }
    return result;
  }

  /**
   * The open tasks `agentId` may claim now (see candidateTasks in board.ts), best first, at most
   * `limit`: the backend walks its index of open tasks, checking each against the claims and the
   * live locks, until the limit is filled.
   */
  find(
    agentId: string,
    capabilities: readonly string[],
    limit: number = 10,
    owner?: string,
  ): Promise<TaskRecord[]> {
    return this.backend.find(agentId, capabilities, limit, owner);
  }

  /**
   * Files of `files` that someone other than `agentId` (with `owner`: that session of it) holds,
   * in the order given. Only locks count — what a claim or lock_file would be refused on — so the
   * answer predicts theirs.
   */
  async detectConflicts(files: readonly string[], agentId: string, owner?: string): Promise<FileConflict[]> {
    const wanted = unique([...files]);
    const locks = await this.locks.getMany(wanted);
    const conflicts: FileConflict[] = [];
    for (const file of wanted) {
      const lock = locks.get(file);
      if (!lock || heldBy(lock, agentId, owner)) continue;
      conflicts.push({
        file,
        holder: lock.holder,
        kind: lock.taskId !== undefined ? 'task' : 'lock',
        ...(lock.taskId !== undefined ? { taskId: lock.taskId } : {}),
      });
    }
    return conflicts;
  }

  /** Append a step to the log of a task `agentId` holds (`task:progress`). */
  async logStep(
    taskId: string,
    agentId: string,
    message: string,
    data?: unknown,
    owner?: string,
  ): Promise<LogStepResult> {
    assertTaskId(taskId);
    if (typeof message !== 'string' || message.trim() === '' || message.length > LIMITS.stepMessage) {
      throw new InvalidArgumentError(`message: expected 1 to ${LIMITS.stepMessage} characters`);
    }
    assertJsonBytes('data', data, LIMITS.stepDataBytes);
    const result = await this.backend.logStep(taskId, agentId, message, data, owner);
    if (result.ok) {
      const { step, task } = result;
      this.changed(task, step);
      this.bus.publish({
        type: 'task:progress',
        agentId,
        data: {
          taskId,
          agentId,
          message,
          step: task.steps ?? 0,
          stepId: step.id,
          ...(step.data !== undefined ? { data: step.data } : {}),
          at: step.at,
        },
      });
    }
    return result;
  }

  /** The last `limit` steps of a task's log, oldest first. */
  steps(taskId: string, limit: number = 100): Promise<TaskStep[]> {
    assertTaskId(taskId);
    return this.backend.steps(taskId, limit);
  }

  /** `owner`: the claiming session's owner token (see locks/types.ts). */
  async claim(taskId: string, agentId: string, files: string[] = [], owner?: string): Promise<ClaimResult> {
    assertTaskId(taskId);
    const result = await this.backend.claim(taskId, agentId, files, this.lockTtlMs, owner);
    if (!result.ok) return result;
    this.changed(result.task);
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
    this.held.set(taskId, { agentId, owner: result.task.owner });
    this.scheduleRenewal();
    await this.holdingsChanged(agentId);
    return result;
  }

  async complete(taskId: string, agentId: string, result?: unknown, owner?: string): Promise<FinishResult> {
    assertTaskId(taskId);
    const bytes = result === undefined ? 0 : Buffer.byteLength(JSON.stringify(result) ?? '');
    if (bytes > MAX_TASK_RESULT_BYTES) {
      throw new InvalidArgumentError(
        `result: ${bytes} bytes of JSON; a task result may be at most ${MAX_TASK_RESULT_BYTES} bytes ` +
          '(store large output elsewhere and put a reference in the result)',
      );
    }
    const outcome = await this.backend.finish(taskId, agentId, 'completed', result, owner);
    if (outcome.ok) {
      this.announceClosed(outcome.task, outcome.releasedLocks, 'task_completed');
      await this.holdingsChanged(agentId);
    }
    return outcome;
  }

  async release(taskId: string, agentId: string, owner?: string): Promise<FinishResult> {
    assertTaskId(taskId);
    const outcome = await this.backend.finish(taskId, agentId, 'released', undefined, owner);
    if (outcome.ok) {
      this.announceClosed(outcome.task, outcome.releasedLocks, 'task_released');
      await this.holdingsChanged(agentId);
    }
    return outcome;
  }

  /**
   * Release the tasks `agentId` holds, wherever they were claimed (the agent left or died): with
   * `owner`, only that session's (and the agent's claims without an owner).
   */
  async releaseAllFor(agentId: string, owner?: string): Promise<TaskRecord[]> {
    const closed = await this.backend.releaseAllFor(agentId, owner);
    for (const { task, releasedLocks } of closed) this.announceClosed(task, releasedLocks, 'agent_left');
    return closed.map(({ task }) => task);
  }

  /**
   * The restore rule (see archive/restore.ts): when the shared store holds no task at all, put
   * back what `load` returns; the backend refuses if a task appeared meanwhile. Claimed tasks
   * keep their holder and get their file locks back. Returns how many were restored.
   */
  async restoreIfEmpty(load: () => Promise<TaskRecord[]>): Promise<number> {
    const { isEmpty, restore } = this.backend;
    if (!isEmpty || !restore || !(await isEmpty.call(this.backend))) return 0;
    const tasks = await load();
    if (tasks.length === 0) return 0;
    return restore.call(this.backend, tasks, this.lockTtlMs);
  }

  get(taskId: string): Promise<TaskRecord | undefined> {
    return this.backend.get(taskId);
  }

  list(status?: TaskStatus): Promise<TaskRecord[]> {
    return this.backend.list(status);
  }

  /** Extend the file locks of the tasks this coordinator claimed and that are still claimed. */
  async renewLocks(): Promise<void> {
    for (const [taskId, { agentId, owner }] of [...this.held]) {
      const task = await this.backend.get(taskId);
      if (!task || !claimedBy(task, agentId, owner)) {
        this.held.delete(taskId);
        continue;
      }
      for (const file of task.files) {
        const lock = await this.locks.extend(file, agentId, this.lockTtlMs, owner);
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
    this.changed(task);
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
  if (taskId.length > LIMITS.taskId) {
    throw new InvalidArgumentError(`taskId: at most ${LIMITS.taskId} characters`);
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
