/**
 * Process lifecycle: whatever ends the coordinator (stdin closed, SIGINT, SIGTERM, a crash),
 * every child and its process group is gone within 5 s, and an abrupt exit kills them at once.
 */
import type { Logger } from '../shared/logger.js';

export interface Closable {
  close(): Promise<void>;
  /** Synchronous last resort from process 'exit': SIGKILL every child group. */
  killAllSync(): void;
}

const SHUTDOWN_BUDGET_MS = 4_500;

export function installLifecycle(
  target: Closable,
  logger: Logger,
  options: { watchStdin: boolean; budgetMs?: number },
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string, code = 0): Promise<void> => {
    if (stopping) return stopping;
    logger.info(`shutting down (${why})`);
    const timer = setTimeout(() => {
      logger.warn('shutdown took too long; killing children');
      target.killAllSync();
      process.exit(code);
    }, options.budgetMs ?? SHUTDOWN_BUDGET_MS);
    timer.unref();
    stopping = target
      .close()
      .catch((error) => logger.error('error during shutdown', { error }))
      .finally(() => {
        clearTimeout(timer);
        process.exit(code);
      });
    return stopping;
  };
  process.on('exit', () => target.killAllSync());
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception', { error: error.stack ?? String(error) });
    void shutdown('uncaught exception', 1);
  });
  if (options.watchStdin) {
    // The SDK's stdio transport does not watch for EOF: the IDE closing our stdin means "quit".
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
  }
  return () => shutdown('done');
}
