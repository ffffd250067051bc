/**
 * Reads a coordination event history and checks the two lock properties of issue 4's proof:
 * never two holders of one file at once, and every acquired lock released or expired.
 *
 * Each acquisition is an interval on the store's clock: from `acquiredAt` (file:locked) to
 * `releasedAt` (file:unlocked) or `expiresAt` (file:lock_expired). Two holders of one file
 * must never have overlapping intervals. Working on intervals instead of event order matters:
 * events are stamped when published, after the store acted, and a bus cut off from Redis
 * flushes its events late; expiry is noticed after the fact.
 */
import type { CoordinationEvent } from '../../src/coordination/types.js';

interface Interval {
  file: string;
  holder: string;
  start: string;
  end: string;
  ended: boolean;
}

export interface LockHistoryReport {
  locks: number;
  violations: string[];
  /** Acquisitions never followed by file:unlocked or file:lock_expired. */
  dangling: string[];
}

/** `file` + holder, the key of `uncertain` below. */
export const pairKey = (file: string, holder: string) => `${file} ${holder}`;

/**
 * `uncertain`: file/holder pairs with an operation whose outcome is unknown (Redis died between
 * doing it and answering). Such a release happened without an event, so those pairs are not
 * held against the history.
 */
export function checkLockHistory(
  events: CoordinationEvent[],
  uncertain: ReadonlySet<string> = new Set(),
): LockHistoryReport {
  const unique = [...new Map(events.map((e) => [e.id, e])).values()];
  const intervals = new Map<string, Interval>();
  const violations: string[] = [];
  const endOf = (event: CoordinationEvent): string | undefined => {
    const data = event.data as Record<string, unknown>;
    if (event.type === 'file:unlocked') return data.releasedAt as string | undefined;
    if (event.type === 'file:lock_expired') return data.expiresAt as string | undefined;
    return undefined;
  };

  for (const event of unique.filter((e) => e.type === 'file:locked')) {
    const { file, holder, acquiredAt, expiresAt } = event.data as Record<string, string>;
    if (!file || !holder || !acquiredAt || !expiresAt) {
      violations.push(`malformed ${event.type} ${event.id}`);
      continue;
    }
    const key = `${file} ${holder} ${acquiredAt}`;
    const known = intervals.get(key);
    // An extension (or a late duplicate) moves the provisional end.
    if (known) known.end = known.end > expiresAt ? known.end : expiresAt;
    else intervals.set(key, { file, holder, start: acquiredAt, end: expiresAt, ended: false });
  }
  for (const event of unique.filter((e) => e.type === 'file:unlocked' || e.type === 'file:lock_expired')) {
    const { file, holder, acquiredAt } = event.data as Record<string, string>;
    const end = endOf(event);
    if (!file || !holder || !acquiredAt || !end) {
      violations.push(`malformed ${event.type} ${event.id}`);
      continue;
    }
    const interval = intervals.get(`${file} ${holder} ${acquiredAt}`);
    // Unlocks of locks never announced (a claim whose answer was lost) close nothing we know.
    if (!interval) continue;
    interval.end = end;
    interval.ended = true;
  }

  const byFile = new Map<string, Interval[]>();
  for (const interval of intervals.values()) {
    byFile.set(interval.file, [...(byFile.get(interval.file) ?? []), interval]);
  }
  for (const list of byFile.values()) {
    list.sort((a, b) => a.start.localeCompare(b.start));
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [a, b] = [list[i]!, list[j]!];
        if (b.start >= a.end) break;
        if (a.holder === b.holder || uncertain.has(pairKey(a.file, a.holder))) continue;
        violations.push(
          `${a.file}: ${b.holder} acquired at ${b.start} while ${a.holder} held it until ${a.end}`,
        );
      }
    }
  }
  const dangling = [...intervals.values()]
    .filter((i) => !i.ended && !uncertain.has(pairKey(i.file, i.holder)))
    .map((i) => `${i.file} by ${i.holder} at ${i.start}`);
  return { locks: intervals.size, violations, dangling };
}
