/**
 * The callers of `whenReady` parked until a downstream connects, each bounded by its own
 * deadline on the injected clock. While any caller waits, the process stays alive: the clock's
 * timers never hold it, nor do a restart's backoff timers, and a one-shot command waiting for a
 * server between two attempts must not find its event loop empty and exit without an answer.
 */
import type { Clock } from '../shared/clock.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  cancel: () => void;
}

export class ReadyWaiters<T> {
  private readonly waiters = new Set<Waiter<T>>();
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly clock: Clock) {}

  /** Parks a caller; after timeoutMs it is rejected with what onTimeout says at that moment. */
  wait(timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cancel: this.clock.setTimer(() => {
          this.waiters.delete(waiter);
          this.release();
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.keepAlive ??= setInterval(() => {}, 2 ** 30);
    });
  }

  resolveAll(value: T): void {
    for (const waiter of this.drain()) waiter.resolve(value);
  }

  rejectAll(error: Error): void {
    for (const waiter of this.drain()) waiter.reject(error);
  }

  private drain(): Array<Waiter<T>> {
    const all = [...this.waiters];
    this.waiters.clear();
    this.release();
    for (const waiter of all) waiter.cancel();
    return all;
  }

  private release(): void {
    if (this.waiters.size > 0 || this.keepAlive === undefined) return;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
