/**
 * The callers of `whenReady` parked until a downstream connects, each bounded by its own
 * deadline on the injected clock.
 */
import type { Clock } from '../shared/clock.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  cancel: () => void;
}

export class ReadyWaiters<T> {
  private readonly waiters = new Set<Waiter<T>>();

  constructor(private readonly clock: Clock) {}

  /** Parks a caller; after timeoutMs it is rejected with what onTimeout says at that moment. */
  wait(timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cancel: this.clock.setTimer(() => {
          this.waiters.delete(waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiters.add(waiter);
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
    for (const waiter of all) waiter.cancel();
    return all;
  }
}
