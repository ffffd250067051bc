/**
 * At most one run in flight per key, plus at most one queued behind it. A downstream that sends
 * 20,000 `list_changed` in a burst used to get 20,000 `tools/list` back; now it gets the one under
 * way and one more, started after it, which sees every change the burst announced.
 */
export class Coalescer<K> {
  private readonly running = new Map<K, Promise<void>>();
  private readonly queued = new Set<K>();

  constructor(private readonly run: (key: K) => Promise<void>) {}

  /** Asks for a run of `key`; resolves when a run that began after this call has finished. */
  trigger(key: K): Promise<void> {
    const current = this.running.get(key);
    if (current) {
      this.queued.add(key);
      // The queued run is started from the current one's end; wait for both.
      return current.then(() => this.running.get(key));
    }
    const next = this.start(key);
    return next;
  }

  private start(key: K): Promise<void> {
    const done = this.run(key)
      .catch(() => {})
      .then(() => {
        this.running.delete(key);
        if (this.queued.delete(key)) void this.start(key);
      });
    this.running.set(key, done);
    return done;
  }
}
