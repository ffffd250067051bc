/**
 * Reads the capped event stream page by page (XRANGE forwards, XREVRANGE for "the latest N"),
 * applying a replay plan, so a type filter with a limit never loads the whole stream at once.
 * Delivery is at-least-once (a batch resent after a dropped connection lands twice): an event id
 * already read is skipped, so a replay shows each event once.
 */
import type { RedisClient } from '../redis-connect.js';
import type { CoordinationEvent } from '../types.js';
import type { ReplayPlan } from './replay.js';

type Entry = [id: string, fields: string[]];

export async function readStream(
  redis: RedisClient,
  key: string,
  plan: ReplayPlan,
  decode: (json: string) => CoordinationEvent | undefined,
  pageSize: number,
): Promise<CoordinationEvent[]> {
  const want = plan.limit ?? Number.POSITIVE_INFINITY;
  const out: CoordinationEvent[] = [];
  if (want === 0) return out;
  // Only ids of events kept: as large as the answer, never the stream.
  const seen = new Set<string>();

  const take = (page: Entry[]): boolean => {
    for (const [, fields] of page) {
      const event = decodeEntry(fields, decode);
      if (event && !seen.has(event.id) && plan.accept(event)) {
        seen.add(event.id);
        out.push(event);
      }
      if (out.length >= want) return true;
    }
    return page.length < pageSize;
  };

  if (plan.fromNewest) {
    let end = '+';
    for (;;) {
      const page = (await redis.xrevrange(key, end, '-', 'COUNT', pageSize)) as Entry[];
      if (take(page)) return out.reverse();
      end = `(${page[page.length - 1]![0]}`;
    }
  }

  let start = '-';
  if (plan.afterStreamId !== undefined) start = `(${plan.afterStreamId}`;
  else if (plan.fromMs !== undefined) start = `${Math.floor(plan.fromMs)}-0`;
  for (;;) {
    const page = (await redis.xrange(key, start, '+', 'COUNT', pageSize)) as Entry[];
    if (take(page)) return out;
    start = `(${page[page.length - 1]![0]}`;
  }
}

function decodeEntry(
  fields: string[],
  decode: (json: string) => CoordinationEvent | undefined,
): CoordinationEvent | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'event') return decode(fields[i + 1]!);
  }
  return undefined;
}
