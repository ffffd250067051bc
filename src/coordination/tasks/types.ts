/**
 * Tasks: one agent holds a task at a time, and claiming it locks all of its files or none.
 * A task is either created on the board first (`open`, with a title, files, required
 * capabilities, a priority and dependencies) or comes to exist by being claimed.
 * Backends (memory, Redis) do each change as one atomic step; `Tasks` (service.ts) adds events
 * and keeps the file locks of held tasks alive.
 */
import { heldBy, type LockRecord } from '../locks/types.js';

export const TASK_STATUSES = ['open', 'claimed', 'completed', 'released'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  /** The claimer (while claimed) or the last one to hold it; '' for a task never claimed. */
  agentId: string;
  /**
   * While claimed: which session of `agentId` claimed it (its owner token, see locks/types.ts);
   * absent: any session of that agent. Never shown in results or events (see publicTask).
   */
  owner?: string;
  /** Normalized paths: declared at creation, locked with the task while it is claimed. */
  files: string[];
  /** ISO-8601; absent while the task was never claimed. */
  claimedAt?: string;
  updatedAt: string;
  completedAt?: string;
  result?: unknown;
  // Board fields: set by create_task (a task that only ever was claimed has none of them).
  title?: string;
  description?: string;
  /** Capabilities an agent needs to take it. */
  capabilities?: string[];
  /** Higher first; 0 when not given. */
  priority?: number;
  /** Tasks that must be completed before this one may be claimed. */
  dependsOn?: string[];
  createdAt?: string;
  createdBy?: string;
  /** Steps logged so far (the log itself keeps the last LIMITS.stepsKept). */
  steps?: number;
}

/** What create_task stores: everything but the status and the times. */
export interface TaskSpec {
  taskId: string;
  title: string;
  description?: string;
  files: string[];
  capabilities: string[];
  priority: number;
  dependsOn: string[];
}

export type CreateResult =
  | { ok: true; task: TaskRecord }
  | { ok: false; taskId: string; reason: 'exists'; status: TaskStatus; holder: string }
  | { ok: false; taskId: string; reason: 'unknown_dependency'; dependency: string };

/** One entry of a task's log. */
export interface TaskStep {
  /** The log entry id (the Redis stream id): increasing within a task. */
  id: string;
  taskId: string;
  agentId: string;
  message: string;
  data?: unknown;
  /** ISO-8601. */
  at: string;
}

export type LogStepResult = { ok: true; step: TaskStep; task: TaskRecord } | FinishRefusal;

export interface ClaimedLock {
  lock: LockRecord;
  /** The claimer already held this file (by lock_file or an earlier claim): its lock was extended. */
  extended: boolean;
}

export type ClaimConflict =
  | { ok: false; conflict: 'task'; taskId: string; holder: string; status: TaskStatus }
  | {
      ok: false;
      conflict: 'file';
      taskId: string;
      file: string;
      holder: string;
      reason?: string;
      expiresAt: string;
    }
  | {
      ok: false;
      conflict: 'dependency';
      taskId: string;
      /** The first dependency that is not completed. */
      dependency: string;
      status: TaskStatus | 'missing';
    };

export type ClaimResult =
  | {
      ok: true;
      task: TaskRecord;
      locks: ClaimedLock[];
      /** the claimer already held the task */ reclaimed: boolean;
    }
  | ClaimConflict;

export type FinishRefusal = {
  ok: false;
  taskId: string;
  reason: 'not_found' | 'not_claimed' | 'not_claimer';
  holder?: string;
  status?: TaskStatus;
};

export type FinishResult = { ok: true; task: TaskRecord; releasedLocks: LockRecord[] } | FinishRefusal;

export interface TaskBackend {
  /** Put a new open task on the board; refused when the id exists or a dependency does not. */
  create(spec: TaskSpec, agentId: string): Promise<CreateResult>;
  /**
   * Claim `taskId` for `agentId` and lock every file (the union with the task's own files) for
   * `ttlMs` — all or nothing. A completed task, or one with a dependency not yet completed, is not
   * claimable.
   */
  claim(
    taskId: string,
    agentId: string,
    files: string[],
    ttlMs: number,
    owner?: string,
  ): Promise<ClaimResult>;
  /** Only the claimer: mark completed or released and release the task's locks it still holds. */
  finish(
    taskId: string,
    agentId: string,
    status: 'completed' | 'released',
    result?: unknown,
    owner?: string,
  ): Promise<FinishResult>;
  /**
   * Release the tasks `agentId` holds (the agent left or died): with `owner`, only that session's
   * (and the agent's claims without an owner); without, every session's.
   */
  releaseAllFor(
    agentId: string,
    owner?: string,
  ): Promise<Array<{ task: TaskRecord; releasedLocks: LockRecord[] }>>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  list(status?: TaskStatus): Promise<TaskRecord[]>;
  /**
   * The tasks `agentId` may take now, best first (see board.ts, candidateTasks), at most `limit`:
   * open or released, every dependency completed, every required capability among
   * `capabilities`, no file in a task another agent holds and none locked by another agent.
   * Walks an index of the open tasks in that order, so its cost grows with the tasks it looks at
   * (the ones returned and the ones passed over), not with the board. A lock of another session
   * of the same agent (another `owner`, see heldBy) counts as another's.
   */
  find(
    agentId: string,
    capabilities: readonly string[],
    limit: number,
    owner?: string,
  ): Promise<TaskRecord[]>;
  /** Only the claimer, while claimed: append to the task's log and count the step. */
  logStep(
    taskId: string,
    agentId: string,
    message: string,
    data: unknown,
    owner?: string,
  ): Promise<LogStepResult>;
  /** The last `limit` steps of a task's log, oldest first. */
  steps(taskId: string, limit: number): Promise<TaskStep[]>;
  /** Whether the store holds no task at all (Redis: the tasks hash is gone). Shared stores only. */
  isEmpty?(): Promise<boolean>;
  /**
   * Put tasks back into an empty store (from the durable record), claimed ones with their file
   * locks for `ttlMs`; does nothing and returns 0 when the store is not empty.
   */
  restore?(tasks: TaskRecord[], ttlMs: number): Promise<number>;
}

/** A task as results show it: the owner token is bookkeeping, like a lock's. */
export function publicTask(task: TaskRecord): Omit<TaskRecord, 'owner'> {
  const { owner: _owner, ...rest } = task;
  return rest;
}

/** Whether the caller (`agentId`, `owner`) holds the claimed `task` (the rule of locks' heldBy). */
export function claimedBy(task: TaskRecord, agentId: string, owner?: string): boolean {
  return task.status === 'claimed' && heldBy({ holder: task.agentId, owner: task.owner }, agentId, owner);
}

export function lockReasonFor(taskId: string): string {
  return `task ${taskId}`;
}
