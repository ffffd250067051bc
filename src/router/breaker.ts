/**
 * A circuit breaker for one downstream, driven by the health monitor's pings.
 *
 * closed: traffic flows; failures are counted. open: `failureThreshold` failures in a row; the
 * router skips the server until `cooldownMs` has passed. half-open: the cooldown is over and one
 * probe is in flight; its outcome alone decides (success closes, failure opens again for another
 * full cooldown). Pure state over an injected `now`, so tests drive it without real time.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now: () => number;
}

export class CircuitBreaker {
  private _state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this._state;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Only a closed breaker lets calls through; half-open waits for its probe's verdict. */
  get allowsTraffic(): boolean {
    return this._state === 'closed';
  }

  /** Milliseconds until an open breaker may probe (0 when it may now, or when not open). */
  msUntilProbe(): number {
    if (this._state !== 'open') return 0;
    return Math.max(0, this.openedAt + this.options.cooldownMs - this.options.now());
  }

  /** open → half-open once the cooldown is over; true when the caller should send the probe now. */
  beginProbe(): boolean {
    if (this._state !== 'open' || this.msUntilProbe() > 0) return false;
    this._state = 'half-open';
    return true;
  }

  recordSuccess(): void {
    this.failures = 0;
    this._state = 'closed';
  }

  recordFailure(): void {
    this.failures++;
    if (this._state === 'half-open' || this.failures >= this.options.failureThreshold) {
      this._state = 'open';
      this.openedAt = this.options.now();
    }
  }

  /** Forget everything, e.g. after a fresh connection proved the server answers again. */
  reset(): void {
    this.recordSuccess();
  }
}
