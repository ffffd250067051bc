/** The one place that opens the durable record; `pg` is imported only when a URL is configured. */
import type { Logger } from '../../shared/logger.js';
import type { Archive } from './types.js';

export { ArchivedBus } from './bus.js';
export { watchForLostTasks, RESTORE_CHECK_MS } from './restore.js';
export type { Archive, ArchiveRecord, ArchiveStats, ArchiveStatus } from './types.js';

export interface OpenArchiveOptions {
  /** `coordination.postgres`; empty or absent: no durable record. */
  url?: string;
  prefix: string;
  logger: Logger;
  bufferLimit?: number;
  probeMs?: number;
}

/**
 * Starts connecting and migrating in the background and returns at once: a PostgreSQL that is
 * down at start costs nothing but a backlog.
 */
export async function openArchive(options: OpenArchiveOptions): Promise<Archive | undefined> {
  const url = options.url?.trim();
  if (!url) return undefined;
  const { PgArchive } = await import('./postgres.js');
  return new PgArchive({ ...options, url });
}
