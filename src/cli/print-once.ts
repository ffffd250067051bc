/**
 * `events` prints each event once: the replay and the live subscription overlap, and a replica's
 * flush can repeat what was already seen. The memory of what was printed is bounded: a follower
 * runs for days, and duplicates only ever arrive close together (the overlap of a replay and the
 * live feed, a re-delivery after a reconnect), well within the last `max` events.
 */
import { LRUCache } from 'lru-cache';

/** Ids remembered by `events --follow`; older ones are forgotten first. */
export const PRINTED_IDS_REMEMBERED = 10_000;

export interface PrintOnce<T> {
  (item: T): void;
  /** Ids remembered now (never more than `max`). */
  readonly remembered: number;
}

export function printOnce<T extends { id: string }>(
  print: (item: T) => void,
  max = PRINTED_IDS_REMEMBERED,
): PrintOnce<T> {
  const printed = new LRUCache<string, true>({ max });
  const once = (item: T) => {
    if (printed.has(item.id)) return;
    printed.set(item.id, true);
    print(item);
  };
  return Object.defineProperty(once, 'remembered', { get: () => printed.size }) as PrintOnce<T>;
}
