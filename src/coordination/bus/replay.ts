/**
 * What `replay({ since, type, limit })` means, decided once for both backends.
 *
 * `since` may be
 * - a Redis stream id `<ms>-<seq>`: entries after it in the stream;
 * - an event id (what `publish` returns and `events` prints): events whose id sorts after it;
 * - epoch ms or an ISO-8601 time: events stamped at or after it.
 * With `since`, `limit` keeps the first matches; without it, the most recent ones. Results are
 * always oldest first.
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { compileTypeGlob, eventIdTime } from '../events.js';
import type { CoordinationEvent, ReplayOptions } from '../types.js';

/**
 * Stream ids carry Redis's clock and event stamps the publisher's; start reading this much
 * earlier than the asked time so a publisher whose clock runs behind is not skipped.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 60_000;

const STREAM_ID = /^\d+-\d+$/;
const EPOCH_MS = /^\d+$/;

export interface ReplayPlan {
  /** Exclusive stream id to start after (the caller gave a stream id). */
  afterStreamId?: string;
  /** Earliest time worth reading, in the stream's clock (already widened by the skew allowance). */
  fromMs?: number;
  /** Type glob and id/time conditions; the stream-id condition is the reader's job. */
  accept: (event: CoordinationEvent) => boolean;
  limit?: number;
  /** No `since` but a limit: read from the newest end. */
  fromNewest: boolean;
}

export function planReplay(options: ReplayOptions = {}): ReplayPlan {
  const typeMatches = compileTypeGlob(options.type);
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new InvalidArgumentError(`replay limit must be a non-negative integer, got ${limit}`);
  }
  const since = options.since?.trim();
  if (!since) {
    return { accept: (e) => typeMatches(e.type), limit, fromNewest: limit !== undefined };
  }
  if (STREAM_ID.test(since)) {
    return { afterStreamId: since, accept: (e) => typeMatches(e.type), limit, fromNewest: false };
  }
  const idTime = eventIdTime(since);
  if (idTime !== undefined) {
    return {
      fromMs: Math.max(0, idTime - CLOCK_SKEW_ALLOWANCE_MS),
      accept: (e) => e.id > since && typeMatches(e.type),
      limit,
      fromNewest: false,
    };
  }
  const sinceMs = EPOCH_MS.test(since) ? Number(since) : Date.parse(since);
  if (!Number.isFinite(sinceMs)) {
    throw new InvalidArgumentError(
      `replay since must be a stream id, an event id, epoch ms or an ISO-8601 time, got "${since}"`,
    );
  }
  return {
    fromMs: Math.max(0, sinceMs - CLOCK_SKEW_ALLOWANCE_MS),
    accept: (e) => Date.parse(e.timestamp) >= sinceMs && typeMatches(e.type),
    limit,
    fromNewest: false,
  };
}

/** Applies a plan to an in-memory history (oldest first). */
export function selectFromHistory(
  history: readonly CoordinationEvent[],
  plan: ReplayPlan,
): CoordinationEvent[] {
  // Without a stream there are no stream ids; the nearest meaning is the id's millisecond.
  const afterMs = plan.afterStreamId === undefined ? undefined : Number(plan.afterStreamId.split('-')[0]);
  const matches = history.filter(
    (e) => plan.accept(e) && (afterMs === undefined || Date.parse(e.timestamp) > afterMs),
  );
  if (plan.limit === undefined) return matches;
  return plan.fromNewest
    ? matches.slice(Math.max(0, matches.length - plan.limit))
    : matches.slice(0, plan.limit);
}
