/**
 * The ids of the last N events delivered, for telling a catch-up read's events apart from those
 * already delivered live. A ring of ids plus a set: O(1) to note and to ask, bounded memory.
 */
export class RecentIds {
  private readonly ring: Array<string | undefined>;
  private readonly ids = new Set<string>();
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Notes `id`; the oldest is forgotten once the ring is full. */
  add(id: string): void {
    if (this.ids.has(id)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.ids.delete(old);
    this.ring[this.next] = id;
    this.ids.add(id);
    this.next = (this.next + 1) % this.ring.length;
  }

  get size(): number {
    return this.ids.size;
  }
}
