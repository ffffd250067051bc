/**
 * Try the candidates of a plan in order. Only a transport failure (closed, timeout, spawn,
 * unavailable) moves on to the next; a result — even `isError` — or any other error is final,
 * because the downstream may already have acted on the call.
 */
import { MayHaveRunError, AllCandidatesFailedError, TransportFailureError } from '../shared/errors.js';

export interface Attempt {
  target: string;
  error: string;
}

export interface FailoverOutcome<T> {
  result: T;
  target: string;
  attempts: Attempt[];
}

export interface FailoverOptions {
  /** False when the server is known to be down (dead process, open breaker): skipped at once. */
  isAvailable(serverId: string): boolean;
  /**
   * Whether a request that reached `serverId` before it failed may run again on the next
   * candidate (read-only or idempotent tools). Absent: never.
   */
  mayRepeat?(serverId: string): boolean;
}

export async function runWithFailover<T>(
  candidates: readonly string[],
  attempt: (target: string) => Promise<T>,
  options: FailoverOptions,
): Promise<FailoverOutcome<T>> {
  const attempts: Attempt[] = [];
  const available = candidates.filter((c) => options.isAvailable(c));
  for (const skipped of candidates.filter((c) => !available.includes(c))) {
    attempts.push({ target: skipped, error: 'unavailable (known down), skipped' });
  }
  // When every candidate is known down, still try them: one may be back by now.
  const order = available.length > 0 ? available : candidates;
  if (available.length === 0) attempts.length = 0;
  let last: TransportFailureError | undefined;
  for (const target of order) {
    try {
      const result = await attempt(target);
      return { result, target, attempts };
    } catch (error) {
      if (!(error instanceof TransportFailureError)) throw error;
      last = error;
      attempts.push({ target, error: error.message });
      const more = order.indexOf(target) < order.length - 1;
      if (error.sent && more && !options.mayRepeat?.(target))
        throw new MayHaveRunError(target, attempts, error);
    }
  }
  // With a single candidate its own error (timeout, closed) says more than a summary would.
  if (last && attempts.length === 1) throw last;
  throw new AllCandidatesFailedError(attempts);
}
