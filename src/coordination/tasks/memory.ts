/**
 * In-process task store over the memory lock store (they share the lock map, so a task claim and
 * a lock_file see each other). Each method runs without awaiting anything in between, which makes
 * it as atomic as the Redis script it mirrors.
 *
 * Every write goes through `put`, which keeps two indexes for find: the open and released tasks
 * in board order (an array kept sorted: a change moves at most the array's tail, microseconds at
 * ten thousand tasks) and, per file, the agents whose claimed tasks list it.
 */
import { randomUUID } from 'node:crypto';

import { assertTaskFiles, LIMITS } from '../limits.js';
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
import { bestFirst, byTaskId } from './board.js';

export class MemoryTaskBackend implements TaskBackend {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly logs = new Map<string, TaskStep[]>();
  /** The open and released tasks, best first (bestFirst): what find walks. */
  private readonly open: TaskRecord[] = [];
  /** File → agent → how many tasks claimed by that agent list the file. */
  private readonly claimedFiles = new Map<string, Map<string, number>>();
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
    this.put(task);
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
    assertTaskFiles(taskId, all.length);
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
      const live = this.locks.live(file);
      // An owner-less lock of the agent becomes this session's, as the task does (see CLAIM).
      const existing = live && owner && !live.owner ? { ...live, owner } : live;
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
    this.put(task);
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
    this.put(task);
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

  async find(
    agentId: string,
    capabilities: readonly string[],
    limit: number,
    owner?: string,
  ): Promise<TaskRecord[]> {
    const have = new Set(capabilities);
    const found: TaskRecord[] = [];
    for (const task of this.open) {
      if (found.length >= limit) break;
      if (this.takeable(task, agentId, have, owner)) found.push(task);
    }
    return found;
  }

  /** An open task's remaining conditions: capabilities, dependencies, files free of others. */
  private takeable(task: TaskRecord, agentId: string, have: ReadonlySet<string>, owner?: string): boolean {
    if (!(task.capabilities ?? []).every((c) => have.has(c))) return false;
    if (!(task.dependsOn ?? []).every((d) => this.tasks.get(d)?.status === 'completed')) return false;
    return task.files.every((file) => {
      const claimers = this.claimedFiles.get(file);
      if (claimers && (claimers.size > 1 || !claimers.has(agentId))) return false;
      const lock = this.locks.live(file);
      return !lock || heldBy(lock, agentId, owner);
    });
  }

  /** Store a task's new record, moving it between the indexes as its status says. */
  private put(task: TaskRecord): void {
    const previous = this.tasks.get(task.taskId);
    if (previous) this.index(previous, -1);
    this.tasks.set(task.taskId, task);
    this.index(task, 1);
  }

  private index(task: TaskRecord, delta: 1 | -1): void {
    if (task.status === 'open' || task.status === 'released') {
      // Ranks are unique (the task id breaks ties), so the slot found is the record's own.
      const at = sortedIndex(this.open, task);
      if (delta === 1) this.open.splice(at, 0, task);
      else if (this.open[at] === task) this.open.splice(at, 1);
      return;
    }
    if (task.status !== 'claimed') return;
    for (const file of task.files) {
      const claimers = this.claimedFiles.get(file) ?? new Map<string, number>();
      const count = (claimers.get(task.agentId) ?? 0) + delta;
      if (count > 0) claimers.set(task.agentId, count);
      else claimers.delete(task.agentId);
      if (claimers.size > 0) this.claimedFiles.set(file, claimers);
      else this.claimedFiles.delete(file);
    }
  }

  private close(current: TaskRecord, status: 'completed' | 'released', result?: unknown) {
    const now = new Date(this.locks.clock.now()).toISOString();
    const releasedLocks: LockRecord[] = [];
    // A file another claimed task of the same agent also lists stays locked for that task: the
    // index counts it more than once for the agent (this task is still counted). Such a task is
    // this holder's own: another session's claim of the file would have been refused.
    const stillNeeded = (file: string) => (this.claimedFiles.get(file)?.get(current.agentId) ?? 0) > 1;
    for (const file of current.files) {
      const lock = this.locks.live(file);
      if (lock && heldBy(lock, current.agentId, current.owner) && !stillNeeded(file)) {
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
    this.put(task);
    return { task, releasedLocks };
  }
}

/** The first slot of `sorted` (best first) whose task does not rank before `task`. */
function sortedIndex(sorted: readonly TaskRecord[], task: TaskRecord): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (bestFirst(sorted[mid]!, task) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function unique(files: string[]): string[] {
  return [...new Set(files)];
}
