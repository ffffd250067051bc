/**
 * Tasks: one agent holds a task at a time, and claiming it locks all of its files or none.
 * Backends (memory, Redis) do the claim as one atomic step; `Tasks` (service.ts) adds events and
 * keeps the file locks of held tasks alive.
 */
import type { LockRecord } from '../locks/types.js';

export const TASK_STATUSES = ['claimed', 'completed', 'released'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  /** The claimer (while claimed) or the last one to hold it. */
  agentId: string;
  /** Normalized paths locked with the task. */
  files: string[];
  /** ISO-8601. */
  claimedAt: string;
  updatedAt: string;
  completedAt?: string;
  result?: unknown;
}

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
  /**
   * Claim `taskId` for `agentId` and lock every file (the union with the files of the task, when
   * the agent already holds it) for `ttlMs` — all or nothing. A completed task is not claimable.
   */
  claim(taskId: string, agentId: string, files: string[], ttlMs: number): Promise<ClaimResult>;
  /** Only the claimer: mark completed or released and release the task's locks it still holds. */
  finish(
    taskId: string,
    agentId: string,
    status: 'completed' | 'released',
    result?: unknown,
  ): Promise<FinishResult>;
  /** Release every task `agentId` holds (the agent left or died). */
  releaseAllFor(agentId: string): Promise<Array<{ task: TaskRecord; releasedLocks: LockRecord[] }>>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  list(status?: TaskStatus): Promise<TaskRecord[]>;
}

export function lockReasonFor(taskId: string): string {
  return `task ${taskId}`;
}
