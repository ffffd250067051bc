/**
 * In-process task store over the memory lock store (they share the lock map, so a task claim and
 * a lock_file see each other). Each method runs without awaiting anything in between, which makes
 * it as atomic as the Redis script it mirrors.
 */
import { randomUUID } from 'node:crypto';

import { LIMITS } from '../limits.js';
import type { MemoryLockBackend } from '../locks/memory.js';
import { heldBy, type LockRecord } from '../locks/types.js';
import {
  claimedBy,
  lockReasonFor,
  type ClaimedLock,
  type ClaimResult,
  type CreateResult,
  type FinishResult,
  type LogStepResult,
  type TaskBackend,
  type TaskRecord,
  type TaskSpec,
  type TaskStatus,
  type TaskStep,
} from './types.js';
import { byTaskId } from './board.js';

export class MemoryTaskBackend implements TaskBackend {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly logs = new Map<string, TaskStep[]>();
  private lastStepMs = 0;
  private stepSeq = 0;

  constructor(
    private readonly locks: MemoryLockBackend,
    private readonly stepsKept: number = LIMITS.stepsKept,
  ) {}

  async create(spec: TaskSpec, agentId: string): Promise<CreateResult> {
    const current = this.tasks.get(spec.taskId);
    if (current) {
      return {
        ok: false,
        taskId: spec.taskId,
        reason: 'exists',
        status: current.status,
        holder: current.agentId,
      };
    }
    const dependency = spec.dependsOn.find((id) => !this.tasks.has(id));
    if (dependency !== undefined) {
      return { ok: false, taskId: spec.taskId, reason: 'unknown_dependency', dependency };
    }
    const now = this.nowIso();
    const task: TaskRecord = {
      ...spec,
      status: 'open',
      agentId: '',
      createdBy: agentId,
      createdAt: now,
      updatedAt: now,
    };
    if (task.description === undefined) delete task.description;
    this.tasks.set(spec.taskId, task);
    return { ok: true, task };
  }

  async claim(
    taskId: string,
    agentId: string,
    files: string[],
    ttlMs: number,
    owner?: string,
  ): Promise<ClaimResult> {
    const current = this.tasks.get(taskId);
    if (
      current &&
      current.status !== 'released' &&
      current.status !== 'open' &&
      !claimedBy(current, agentId, owner)
    ) {
      return { ok: false, conflict: 'task', taskId, holder: current.agentId, status: current.status };
    }
    for (const dependency of current?.dependsOn ?? []) {
      const status = this.tasks.get(dependency)?.status ?? 'missing';
      if (status !== 'completed') return { ok: false, conflict: 'dependency', taskId, dependency, status };
    }
    const reclaimed = current?.status === 'claimed';
    const all = unique([...(current?.files ?? []), ...files]);
    for (const file of all) {
      const lock = this.locks.live(file);
      if (lock && !heldBy(lock, agentId, owner)) {
        return {
          ok: false,
          conflict: 'file',
          taskId,
          file,
          holder: lock.holder,
          ...(lock.reason !== undefined ? { reason: lock.reason } : {}),
          expiresAt: lock.expiresAt,
        };
      }
    }
    const now = new Date(this.locks.clock.now()).toISOString();
    const locks: ClaimedLock[] = all.map((file) => {
      const existing = this.locks.live(file);
      const record: LockRecord = existing ?? {
        file,
        holder: agentId,
        ...(owner ? { owner } : {}),
        reason: lockReasonFor(taskId),
        taskId,
        token: randomUUID(),
        acquiredAt: now,
        expiresAt: '',
      };
      return { lock: this.locks.put(record, ttlMs), extended: existing !== undefined };
    });
    const { completedAt: _done, result: _result, owner: previousOwner, ...kept } = current ?? { taskId };
    // A session reclaiming an owner-less claim of its agent takes it over; an agent-level caller
    // reclaiming keeps the session's.
    const claimOwner = owner || (reclaimed ? previousOwner : undefined);
    const task: TaskRecord = {
      ...kept,
      taskId,
      status: 'claimed',
      agentId,
      ...(claimOwner ? { owner: claimOwner } : {}),
      files: all,
      claimedAt: reclaimed && current.claimedAt !== undefined ? current.claimedAt : now,
      updatedAt: now,
    };
    this.tasks.set(taskId, task);
    return { ok: true, task, locks, reclaimed };
  }

  async logStep(
    taskId: string,
    agentId: string,
    message: string,
    data: unknown,
    owner?: string,
  ): Promise<LogStepResult> {
    const current = this.tasks.get(taskId);
    if (!current) return { ok: false, taskId, reason: 'not_found' };
    if (current.status !== 'claimed') {
      return { ok: false, taskId, reason: 'not_claimed', holder: current.agentId, status: current.status };
    }
    if (!claimedBy(current, agentId, owner)) {
      return { ok: false, taskId, reason: 'not_claimer', holder: current.agentId, status: current.status };
    }
    const nowMs = this.locks.clock.now();
    // Stream-style ids, increasing like XADD's: `<ms>-<seq>`.
    this.stepSeq = nowMs > this.lastStepMs ? 0 : this.stepSeq + 1;
    this.lastStepMs = Math.max(nowMs, this.lastStepMs);
    const at = new Date(nowMs).toISOString();
    const step: TaskStep = {
      id: `${this.lastStepMs}-${this.stepSeq}`,
      taskId,
      agentId,
      message,
      ...(data !== undefined ? { data: structuredClone(data) } : {}),
      at,
    };
    const log = this.logs.get(taskId) ?? [];
    log.push(step);
    if (log.length > this.stepsKept) log.splice(0, log.length - this.stepsKept);
    this.logs.set(taskId, log);
    const task: TaskRecord = { ...current, steps: (current.steps ?? 0) + 1, updatedAt: at };
    this.tasks.set(taskId, task);
    return { ok: true, step, task };
  }

  async steps(taskId: string, limit: number): Promise<TaskStep[]> {
    const log = this.logs.get(taskId) ?? [];
    return limit <= 0 ? [] : log.slice(-limit);
  }

  private nowIso(): string {
    return new Date(this.locks.clock.now()).toISOString();
  }

  async finish(
    taskId: string,
    agentId: string,
    status: 'completed' | 'released',
    result?: unknown,
    owner?: string,
  ): Promise<FinishResult> {
    const current = this.tasks.get(taskId);
    if (!current) return { ok: false, taskId, reason: 'not_found' };
    if (current.status !== 'claimed') {
      return { ok: false, taskId, reason: 'not_claimed', holder: current.agentId, status: current.status };
    }
    if (!claimedBy(current, agentId, owner)) {
      return { ok: false, taskId, reason: 'not_claimer', holder: current.agentId, status: current.status };
    }
    return { ok: true, ...this.close(current, status, result) };
  }

  async releaseAllFor(
    agentId: string,
    owner?: string,
  ): Promise<Array<{ task: TaskRecord; releasedLocks: LockRecord[] }>> {
    return [...this.tasks.values()]
      .filter((task) =>
        owner !== undefined
          ? claimedBy(task, agentId, owner)
          : task.status === 'claimed' && task.agentId === agentId,
      )
      .map((task) => this.close(task, 'released'));
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    return this.tasks.get(taskId);
  }

  async list(status?: TaskStatus): Promise<TaskRecord[]> {
    return [...this.tasks.values()]
      .filter((task) => status === undefined || task.status === status)
      .sort(byTaskId);
  }

  private close(current: TaskRecord, status: 'completed' | 'released', result?: unknown) {
    const now = new Date(this.locks.clock.now()).toISOString();
    const releasedLocks: LockRecord[] = [];
    // A file another claimed task of the same holder also lists stays locked for that task.
    const stillNeeded = new Set(
      [...this.tasks.values()]
        .filter((t) => claimedBy(t, current.agentId, current.owner) && t.taskId !== current.taskId)
        .flatMap((t) => t.files),
    );
    for (const file of current.files) {
      const lock = this.locks.live(file);
      if (lock && heldBy(lock, current.agentId, current.owner) && !stillNeeded.has(file)) {
        this.locks.delete(file);
        releasedLocks.push(lock);
      }
    }
    const { completedAt: _done, result: _result, owner: _owner, ...kept } = current;
    const task: TaskRecord = {
      ...kept,
      status,
      updatedAt: now,
      ...(status === 'completed' ? { completedAt: now } : {}),
      ...(status === 'completed' && result !== undefined ? { result } : {}),
    };
    this.tasks.set(task.taskId, task);
    return { task, releasedLocks };
  }
}

function unique(files: string[]): string[] {
  return [...new Set(files)];
}
