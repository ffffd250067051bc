/**
 * A fixed-capacity FIFO that drops its oldest item when full. Used for the memory bus's history
 * and the Redis bus's offline buffer, where an Array's shift() would make every publish during a
 * long outage O(capacity).
 */
export class RingBuffer<T> {
  private items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends; returns how many items were dropped to make room (0 or 1). */
  push(item: T): number {
    const tail = (this.head + this.count) % this.capacity;
    this.items[tail] = item;
    if (this.count < this.capacity) {
      this.count += 1;
      return 0;
    }
    this.head = (this.head + 1) % this.capacity;
    return 1;
  }

  /** Removes and returns up to `n` items from the front, oldest first. */
  shift(n: number): T[] {
    const taken: T[] = [];
    while (taken.length < n && this.count > 0) {
      taken.push(this.items[this.head] as T);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count -= 1;
    }
    return taken;
  }

  /**
   * Puts items back at the front (a batch that could not be sent). When that overflows, the
   * oldest are dropped, as with push. Returns how many were dropped.
   */
  unshift(items: readonly T[]): number {
    const all = [...items, ...this.toArray()];
    const dropped = Math.max(0, all.length - this.capacity);
    this.clear();
    for (const item of all.slice(dropped)) this.push(item);
    return dropped;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }

  clear(): void {
    this.items = new Array<T | undefined>(this.capacity);
    this.head = 0;
    this.count = 0;
  }
}
