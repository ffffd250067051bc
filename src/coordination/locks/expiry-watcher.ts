/**
 * How `file:lock_expired` is produced without Redis keyspace notifications (often disabled, and
 * fire-and-forget when enabled): each coordinator remembers the locks it granted and sets a timer
 * for each one's expiry. When the timer fires it reads the key:
 *  - gone, or held under another token (expired, then taken again) → the lock expired: report it;
 *  - same token, later expiry → it was extended meanwhile: wait for the new expiry;
 *  - the store is unreachable → look again later (the key's fate is decided in Redis anyway).
 * Releases through this coordinator, and `file:unlocked` events from others, stop the watch, so
 * a released lock is never reported as expired.
 *
 * Known gap: a lock whose granting coordinator died expires silently; `agent:left` for that
 * agent (published by whoever notices) is the signal then.
 */
import type { Logger } from '../../shared/logger.js';
import type { Clock } from '../types.js';
import type { LockRecord } from './types.js';

/** Redis expires a key at its PX deadline; look a little after so the check does not race it. */
const GRACE_MS = 20;
/** How soon to look again while the store is unreachable, or the key outlived its deadline. */
const RETRY_MS = 250;

interface Watched {
  lock: LockRecord;
  cancel: () => void;
}

export interface ExpiryWatcherOptions {
  get(file: string): Promise<LockRecord | undefined>;
  onExpired(lock: LockRecord): void;
  clock: Clock;
  logger: Logger;
}

export class LockExpiryWatcher {
  private readonly watched = new Map<string, Watched>();
  private closed = false;

  constructor(private readonly options: ExpiryWatcherOptions) {}

  /** Watch `lock` (or update the watch after an extension). */
  track(lock: LockRecord): void {
    if (this.closed) return;
    const previous = this.watched.get(lock.file);
    if (previous && previous.lock.token !== lock.token) {
      // A new acquisition replaces one whose check has not run yet. Past its deadline it expired;
      // before it, it must have been released elsewhere (that event is still on its way).
      this.forget(lock.file);
      if (Date.parse(previous.lock.expiresAt) <= this.options.clock.now())
        this.options.onExpired(previous.lock);
    }
    this.schedule(lock, Date.parse(lock.expiresAt) - this.options.clock.now() + GRACE_MS);
  }

  /**
   * Stop watching `file`; with `holder` and `acquiredAt`, only if that acquisition is the one
   * watched (a late event about an earlier lock must not cancel the watch on a newer one).
   */
  forget(file: string, holder?: string, acquiredAt?: string): void {
    const entry = this.watched.get(file);
    if (!entry) return;
    if (holder !== undefined && entry.lock.holder !== holder) return;
    if (acquiredAt !== undefined && entry.lock.acquiredAt !== acquiredAt) return;
    entry.cancel();
    this.watched.delete(file);
  }

  /** Locks being watched (for tests and diagnostics). */
  files(): string[] {
    return [...this.watched.keys()];
  }

  close(): void {
    this.closed = true;
    for (const file of [...this.watched.keys()]) this.forget(file);
  }

  private schedule(lock: LockRecord, delayMs: number): void {
    const previous = this.watched.get(lock.file);
    previous?.cancel();
    const entry: Watched = { lock, cancel: () => {} };
    entry.cancel = this.options.clock.setTimer(() => void this.check(entry), Math.max(0, delayMs));
    this.watched.set(lock.file, entry);
  }

  private async check(entry: Watched): Promise<void> {
    const { file, token } = entry.lock;
    let current: LockRecord | undefined;
    try {
      current = await this.options.get(file);
    } catch (error) {
      this.options.logger.debug('lock expiry check deferred', { file, error });
      if (this.watched.get(file) === entry) this.schedule(entry.lock, RETRY_MS);
      return;
    }
    // Released, re-tracked or closed while we were reading.
    if (this.watched.get(file) !== entry) return;
    if (current && current.token === token) {
      const remaining = Date.parse(current.expiresAt) - this.options.clock.now();
      this.schedule(current, remaining > 0 ? remaining + GRACE_MS : RETRY_MS);
      return;
    }
    this.watched.delete(file);
    this.options.onExpired(entry.lock);
  }
}
