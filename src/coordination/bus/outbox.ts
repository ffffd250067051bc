/**
 * Events waiting to reach Redis. Bounded (the oldest go first when full), drained in order, one
 * batch on the wire at a time: while a batch travels, new events pile up and leave together in
 * the next one, so batches grow with load and stay single events when idle.
 */
import { RingBuffer } from './ring.js';

export interface OutboxOptions<T> {
  limit: number;
  batchSize: number;
  /** Wait before retrying a batch that failed while the connection still looked up. */
  resendDelayMs: number;
  /** Sends one batch; resolves with the events that must be sent again. Never rejects. */
  send: (batch: T[]) => Promise<T[]>;
  /** Whether sending makes sense now (Redis connected and subscribed). */
  canSend: () => boolean;
  onDropped: (count: number) => void;
}

export class Outbox<T> {
  private readonly queue: RingBuffer<T>;
  private inFlight = 0;
  private queued = false;
  private draining: Promise<void> | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxOptions<T>) {
    this.queue = new RingBuffer(options.limit);
  }

  /** Queued plus on the wire. */
  get size(): number {
    return this.queue.size + this.inFlight;
  }

  get limit(): number {
    return this.queue.capacity;
  }

  push(item: T): void {
    const dropped = this.queue.push(item);
    if (dropped > 0) this.options.onDropped(dropped);
    this.kick();
  }

  /** Starts draining soon if there is anything to send and a way to send it. */
  kick(): void {
    if (this.stopped || this.queued || this.draining || this.resendTimer) return;
    if (this.queue.size === 0 || !this.options.canSend()) return;
    // A microtask, so every publish of the current tick leaves in one batch.
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      void this.start();
    });
  }

  /** Sends what is queued, giving up at the deadline or at the first failure (close uses this). */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.size > 0 && this.options.canSend() && !this.resendTimer) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return;
      await raceTimeout(this.start(), remaining);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
  }

  private start(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      this.kick(); // events published while the last batch was on the wire
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && this.options.canSend()) {
      const batch = this.queue.shift(this.options.batchSize);
      this.inFlight = batch.length;
      let unsent: T[];
      try {
        unsent = await this.options.send(batch);
      } catch {
        unsent = batch; // send() promises not to reject; if it does, keep the events anyway
      } finally {
        this.inFlight = 0;
      }
      if (unsent.length > 0) {
        const dropped = this.queue.unshift(unsent);
        if (dropped > 0) this.options.onDropped(dropped);
        this.resendLater();
        return;
      }
    }
  }

  private resendLater(): void {
    if (this.stopped) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      this.kick();
    }, this.options.resendDelayMs);
    this.resendTimer.unref();
  }
}

async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
