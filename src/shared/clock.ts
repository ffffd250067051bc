/**
 * The one injectable clock (supervisor, health, lock expiry, heartbeats, caches), so state-machine
 * tests need not wait on real time. Timers never keep the process alive: a coordinator whose
 * client went away must be able to exit.
 */
export interface Clock {
  /** Epoch milliseconds (also used for timestamps, so wall time rather than monotonic). */
  now(): number;
  /** Runs fn once after ms; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after ms on the clock, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
