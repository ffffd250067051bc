/**
 * A call whose downstream asked its client something (sampling, elicitation, roots) while the
 * calling client is modern and cannot be asked directly: the downstream's request is parked here,
 * the client is handed `input_required` with it, and its retry (carrying the answer) un-parks it.
 * The call goes on in the background the whole time; `next()` reports whichever comes first, the
 * call's outcome or the next batch of questions.
 */
import type { Request, Result } from '@modelcontextprotocol/server';

interface Ask {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
  /** Handed to the client already (waiting for its answer). */
  sent: boolean;
}

export type ExchangeStep<R> =
  { done: true; result: R } | { done: false; inputRequests: Record<string, Request> };

export class Exchange<R> {
  /**
   * Ends the call: the client cancelled a request that was waiting on it. The call is not tied to
   * the signal of the request that started it — that request is answered (input_required) long
   * before the call ends, and on stateless HTTP its instance closes right after.
   */
  readonly controller = new AbortController();
  private readonly asks = new Map<string, Ask>();
  private outcome: { ok: true; value: R } | { ok: false; error: unknown } | undefined;
  /** Everyone waiting in next() (a client may send the same retry twice). */
  private readonly wakers = new Set<() => void>();
  private counter = 0;

  constructor(
    readonly id: string,
    /** The caller the exchange belongs to (checked again on every retry). */
    readonly owner: string,
    /** The downstream whose request is parked (for messages). */
    readonly serverId: string,
  ) {}

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  /** The call itself; when it settles, every unanswered question is withdrawn. */
  attach(call: Promise<R>): void {
    call.then(
      (value) => this.settle({ ok: true, value }),
      (error: unknown) => this.settle({ ok: false, error }),
    );
  }

  /** A downstream's server→client request: parked until the client answers it. */
  ask(request: Request, signal: AbortSignal): Promise<Result> {
    if (this.outcome) return Promise.reject(new Error('the call this request belongs to has ended'));
    const key = `${this.serverId}-${++this.counter}`;
    return new Promise<Result>((resolve, reject) => {
      this.asks.set(key, { request, resolve, reject, sent: false });
      signal.addEventListener(
        'abort',
        () => {
          this.asks.delete(key);
          reject(new Error('cancelled by the downstream'));
        },
        { once: true },
      );
      this.wakeAll();
    });
  }

  /** The client's retry: each answered question goes back to the waiting downstream. */
  answer(responses: Record<string, unknown> | undefined): string[] {
    const missing: string[] = [];
    for (const [key, ask] of this.asks) {
      if (!ask.sent) continue;
      const response = responses?.[key];
      this.asks.delete(key);
      if (response === undefined) {
        missing.push(key);
        ask.reject(new Error(`the client gave no answer to ${ask.request.method}`));
      } else {
        ask.resolve(response as Result);
      }
    }
    return missing;
  }

  /** Waits for the call's outcome or for questions not yet handed to the client. */
  async next(): Promise<ExchangeStep<R>> {
    for (;;) {
      const outcome = this.outcome;
      if (outcome) {
        if (outcome.ok) return { done: true, result: outcome.value };
        throw outcome.error;
      }
      const fresh = [...this.asks].filter(([, ask]) => !ask.sent);
      if (fresh.length > 0) {
        const inputRequests: Record<string, Request> = {};
        for (const [key, ask] of fresh) {
          ask.sent = true;
          inputRequests[key] = ask.request;
        }
        return { done: false, inputRequests };
      }
      await new Promise<void>((resolve) => this.wakers.add(resolve));
    }
  }

  private wakeAll(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  private settle(outcome: NonNullable<Exchange<R>['outcome']>): void {
    this.outcome = outcome;
    for (const ask of this.asks.values()) ask.reject(new Error('the call ended before the client answered'));
    this.asks.clear();
    this.wakeAll();
  }
}
