/**
 * The durable record (`coordination.postgres`) as the rest of coordination sees it: a sink that
 * never waits (events, task changes and steps are queued and written in batches off the call
 * path), a reader for history older than the capped stream, and the tasks to restore when Redis
 * has lost its own. Nothing here imports `pg`: the driver is loaded only when a URL is configured.
 */
import type { TaskRecord, TaskStep } from '../tasks/types.js';
import type { CoordinationEvent, ReplayOptions } from '../types.js';

export type ArchiveStatus = 'connected' | 'disconnected' | 'disabled';

/** What health shows beside `dependencies.postgres`. */
export interface ArchiveStats {
  status: ArchiveStatus;
  /** Records waiting to be written (queued plus the batch on the wire). */
  backlog: number;
  /** The backlog's bound: beyond it the oldest records are dropped. */
  bufferLimit: number;
  /** Records dropped because the backlog was full (lost to the durable record). */
  dropped: number;
  /** Records written since start. */
  written: number;
  /** Age of the oldest record still waiting, ms (0 when nothing waits). */
  lagMs: number;
  /** Tasks put back into Redis from PostgreSQL since start. */
  restored: number;
  lastError: string | null;
}

export type ArchiveRecord =
  | { kind: 'event'; event: CoordinationEvent }
  | { kind: 'task'; task: TaskRecord }
  | { kind: 'step'; step: TaskStep };

export interface Archive {
  readonly status: ArchiveStatus;
  /** Queue a record; never waits, never throws. */
  record(item: ArchiveRecord): void;
  /** Events from PostgreSQL, oldest first (the replay contract of EventBus.replay). */
  replay(options: ReplayOptions): Promise<CoordinationEvent[]>;
  /** Every archived task, when at least one is open or claimed; [] otherwise. */
  tasksToRestore(): Promise<TaskRecord[]>;
  /** Count tasks put back by a restore (for health). */
  noteRestored(count: number): void;
  /** Resolves true once migrated and reachable, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Called on every status change; returns an unsubscribe function. */
  onStatus(listener: (status: ArchiveStatus) => void): () => void;
  stats(): ArchiveStats;
  /** Write what is queued (bounded in time), then disconnect. */
  close(): Promise<void>;
}
