/**
 * Tasks come back from PostgreSQL after Redis lost its data (FLUSHALL, a restart without
 * persistence). The rule, simple and safe:
 *
 *   when the tasks hash does not exist at all, and PostgreSQL holds at least one open or claimed
 *   task, every archived task (completed ones too: dependencies need them) is written back in one
 *   script that does nothing if the hash exists by then.
 *
 * The hash never empties in normal use (finished tasks stay as history), so its absence means
 * the data is gone; the check in the script means a task created meanwhile is never overwritten,
 * and two coordinators restoring at once restore once. Checked at start (as soon as PostgreSQL
 * answers) and every `intervalMs` after (one EXISTS), never on a tool call's path.
 */
import type { Logger } from '../../shared/logger.js';
import type { Tasks } from '../tasks/service.js';
import type { Archive } from './types.js';

export const RESTORE_CHECK_MS = 5_000;

export function watchForLostTasks(
  tasks: Tasks,
  archive: Archive,
  options: { logger: Logger; intervalMs?: number },
): () => void {
  const logger = options.logger.child('restore');
  const intervalMs = options.intervalMs ?? RESTORE_CHECK_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const check = (): Promise<void> =>
    (running ??= (async () => {
      if (archive.status !== 'connected') return;
      try {
        const restored = await tasks.restoreIfEmpty(() => archive.tasksToRestore());
        if (restored > 0) {
          archive.noteRestored(restored);
          logger.warn('redis had lost its tasks; restored them from postgres', { tasks: restored });
        }
      } catch (error) {
        logger.debug('restore check deferred', { error });
      }
    })().finally(() => {
      running = undefined;
    }));

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void check().finally(schedule), intervalMs);
    timer.unref();
  };
  const stopListening = archive.onStatus((status) => {
    if (status === 'connected') void check();
  });
  void check();
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    stopListening();
  };
}
