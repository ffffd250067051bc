import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../../src/http/rate-limit.js';
import { ManualClock } from '../../helpers/manual-clock.js';

function drain(limiter: RateLimiter, key: string, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(key).ok) allowed++;
  return allowed;
}

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then refuses with Retry-After until a token refills', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(60, () => clock.now());
    assert.equal(drain(limiter, 'ci', 60), 60);
    assert.deepEqual(limiter.take('ci'), { ok: false, retryAfterSeconds: 1 });
    await clock.advance(999);
    assert.equal(limiter.take('ci').ok, false);
    await clock.advance(1);
    assert.deepEqual(limiter.take('ci'), { ok: true });
    assert.equal(limiter.take('ci').ok, false);
  });

  it('refills continuously at perMinute per minute and never beyond the burst', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(120, () => clock.now());
    assert.equal(drain(limiter, 'k', 120), 120);
    await clock.advance(15_000); // a quarter minute: 30 tokens
    assert.equal(drain(limiter, 'k', 100), 30);
    await clock.advance(10 * 60_000); // long idle: full again, not 1,200
    assert.equal(drain(limiter, 'k', 1_000), 120);
  });

  it('says how long the wait is, in whole seconds, at least 1', () => {
    const clock = new ManualClock();
    const slow = new RateLimiter(2, () => clock.now()); // one token per 30 s
    assert.equal(drain(slow, 'k', 2), 2);
    assert.deepEqual(slow.take('k'), { ok: false, retryAfterSeconds: 30 });
    const fast = new RateLimiter(6_000, () => clock.now()); // one token per 10 ms
    assert.equal(drain(fast, 'k', 6_000), 6_000);
    assert.deepEqual(fast.take('k'), { ok: false, retryAfterSeconds: 1 });
  });

  it('keeps one bucket per key', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(3, () => clock.now());
    assert.equal(drain(limiter, 'a', 5), 3);
    assert.equal(drain(limiter, 'b', 5), 3);
    assert.equal(limiter.take('a').ok, false);
  });

  it('refused attempts do not push the refill further away', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(60, () => clock.now());
    drain(limiter, 'k', 60);
    for (let i = 0; i < 50; i++) {
      assert.equal(limiter.take('k').ok, false);
      await clock.advance(10);
    }
    await clock.advance(500); // 1,000 ms since the bucket emptied
    assert.equal(limiter.take('k').ok, true);
  });

  it('0 per minute turns the limit off', () => {
    const limiter = new RateLimiter(0);
    assert.equal(limiter.enabled, false);
    assert.equal(drain(limiter, 'k', 10_000), 10_000);
    assert.equal(limiter.size, 0);
  });

  it('remembers at most maxKeys keys, forgetting the least recently seen', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, () => clock.now(), 3);
    for (const key of ['a', 'b', 'c']) assert.equal(limiter.take(key).ok, true);
    assert.equal(limiter.take('a').ok, false); // 'a' is now the most recent
    assert.equal(limiter.take('d').ok, true); // evicts 'b', the least recent
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('a').ok, false, 'a was kept');
    assert.equal(limiter.take('c').ok, false, 'c was kept');
    assert.equal(limiter.take('b').ok, true, 'b was forgotten: a fresh bucket');
    assert.equal(limiter.size, 3);
  });

  it('a clock that steps back refills nothing, then or when it catches up', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(60, () => now);
    drain(limiter, 'k', 60);
    now -= 60_000;
    assert.equal(limiter.take('k').ok, false);
    now += 60_000;
    assert.equal(limiter.take('k').ok, false);
    now += 1_000;
    assert.equal(limiter.take('k').ok, true);
  });

  it('rejects nonsense limits', () => {
    assert.throws(() => new RateLimiter(-1), RangeError);
    assert.throws(() => new RateLimiter(Number.NaN), RangeError);
    assert.throws(() => new RateLimiter(10, Date.now, 0), RangeError);
  });
});
