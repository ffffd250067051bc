/**
 * Requests per minute per caller (an API key's name, an OAuth subject, or an address without
 * auth): a token bucket per key that holds at most `perMinute` tokens (the burst) and refills
 * continuously at `perMinute` per minute. Pure: time comes from `now`, nothing is scheduled.
 *
 * The key map is bounded: past `maxKeys` the least recently seen key is forgotten. Forgetting is
 * cheap because an idle bucket refills to full, the same as a key never seen; only a flood of
 * distinct keys could make a busy key forget its debt, and those keys belong to callers the HTTP
 * face has already authenticated (or to addresses, without auth on loopback).
 */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOWED: RateDecision = { ok: true };
const EPSILON = 1e-9;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Tokens gained per millisecond. */
  private readonly rate: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 10_000,
  ) {
    if (!Number.isFinite(perMinute) || perMinute < 0) {
      throw new RangeError(`rate limit must be a non-negative number per minute, got ${perMinute}`);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
    }
    this.rate = perMinute / 60_000;
  }

  /** 0 per minute turns the limit off. */
  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Keys currently remembered (at most maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends one token of `key`'s bucket, or says how long until one is back. */
  take(key: string): RateDecision {
    if (!this.enabled) return ALLOWED;
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = this.perMinute;
    let at = now;
    if (bucket) {
      // A clock that steps back (wall time) refills nothing rather than draining.
      const elapsed = Math.max(0, now - bucket.at);
      tokens = Math.min(this.perMinute, bucket.tokens + elapsed * this.rate);
      at = Math.max(now, bucket.at);
      this.buckets.delete(key); // re-inserted below: Map order is recency order
    }
    // Refills are fractions of a token; a hair under one after rounding still counts as one.
    const ok = tokens >= 1 - EPSILON;
    if (ok) tokens = Math.max(0, tokens - 1);
    this.buckets.set(key, { tokens, at });
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (ok) return ALLOWED;
    const waitMs = (1 - tokens) / this.rate;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
