/**
 * How hard and how often a downstream is retried: all the numbers in one place, turned into
 * p-retry options, and how an attempt's failure is worded.
 */
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { Options as RetryOptions } from 'p-retry';
import { TransportFailureError } from '../shared/errors.js';
import { describeError } from './session.js';
import type { TransportKind } from './types.js';

export interface SupervisorTimings {
  /** First backoff after a failure; multiplied by factor up to maxBackoffMs. */
  minBackoffMs: number;
  factor: number;
  maxBackoffMs: number;
  /** Consecutive failures before crash-loop (stdio) or before whenReady stops waiting (remote). */
  maxFailures: number;
  /** A connection that dies sooner than this after connecting counts as a failure. */
  stableAfterMs: number;
  /** Cadence of the retries once in crash-loop. */
  crashLoopRetryMs: number;
}

export const DEFAULT_SUPERVISOR_TIMINGS: SupervisorTimings = {
  minBackoffMs: 200,
  factor: 2,
  maxBackoffMs: 10_000,
  maxFailures: 5,
  stableAfterMs: 10_000,
  crashLoopRetryMs: 30_000,
};

/**
 * The normal lane: exponential backoff. A child gets maxFailures attempts before crash-loop; a
 * remote server that is down is not crash-looping, so it keeps being tried at the normal backoff
 * and is picked up within maxBackoffMs of coming back.
 */
export function backoffOptions(t: SupervisorTimings, kind: TransportKind): RetryOptions {
  return {
    retries: kind === 'stdio' ? t.maxFailures - 1 : Number.POSITIVE_INFINITY,
    factor: t.factor,
    minTimeout: t.minBackoffMs,
    maxTimeout: t.maxBackoffMs,
    unref: true,
  };
}

/** The slow lane: one attempt every crashLoopRetryMs, for as long as it takes. */
export function crashLoopOptions(t: SupervisorTimings): RetryOptions {
  const every = t.crashLoopRetryMs;
  return { retries: Number.POSITIVE_INFINITY, factor: 1, minTimeout: every, maxTimeout: every, unref: true };
}

/**
 * Every attempt error as a TransportFailureError naming the server. (Also keeps p-retry going:
 * it gives up at once on a plain TypeError.)
 */
export function attemptFailure(serverId: string, timeoutMs: number, error: unknown): TransportFailureError {
  if (error instanceof TransportFailureError) return error;
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    // The era probe has a budget of its own, which its timeout carries.
    const own = (error.data as { timeout?: unknown } | undefined)?.timeout;
    const detail =
      typeof own === 'number' && /negotiation probe/i.test(error.message)
        ? `no answer to the era probe (server/discover) within ${own} ms`
        : `no answer to initialize or a list request within ${typeof own === 'number' ? own : timeoutMs} ms`;
    return new TransportFailureError(serverId, 'timeout', `${serverId}: ${detail}`, { cause: error });
  }
  const detail = describeError(error);
  const message = detail.startsWith(`${serverId}: `) ? detail : `${serverId}: ${detail}`;
  return new TransportFailureError(serverId, 'closed', message, { cause: error });
}
