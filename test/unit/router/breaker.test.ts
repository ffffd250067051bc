import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../../src/router/breaker.js';

function breaker(failureThreshold = 3, cooldownMs = 1_000) {
  const clock = { time: 0 };
  return { clock, breaker: new CircuitBreaker({ failureThreshold, cooldownMs, now: () => clock.time }) };
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and opens at it', () => {
    const { breaker: b } = breaker(3);
    b.recordFailure();
    b.recordFailure();
    assert.equal(b.state, 'closed');
    assert.equal(b.allowsTraffic, true);
    assert.equal(b.consecutiveFailures, 2);
    b.recordFailure();
    assert.equal(b.state, 'open');
    assert.equal(b.allowsTraffic, false);
  });

  it('a success in between starts the count again', () => {
    const { breaker: b } = breaker(2);
    b.recordFailure();
    b.recordSuccess();
    b.recordFailure();
    assert.equal(b.state, 'closed');
    assert.equal(b.consecutiveFailures, 1);
  });

  it('allows one probe only once the cooldown has passed (half-open)', () => {
    const { clock, breaker: b } = breaker(1, 1_000);
    b.recordFailure();
    assert.equal(b.msUntilProbe(), 1_000);
    clock.time = 999;
    assert.equal(b.beginProbe(), false);
    assert.equal(b.state, 'open');
    clock.time = 1_000;
    assert.equal(b.msUntilProbe(), 0);
    assert.equal(b.beginProbe(), true);
    assert.equal(b.state, 'half-open');
    assert.equal(b.allowsTraffic, false, 'half-open waits for the probe');
    assert.equal(b.beginProbe(), false, 'only one probe');
  });

  it('a failed probe opens it again for a full cooldown; a good one closes it', () => {
    const { clock, breaker: b } = breaker(3, 1_000);
    for (let i = 0; i < 3; i++) b.recordFailure();
    clock.time = 1_000;
    b.beginProbe();
    b.recordFailure();
    assert.equal(b.state, 'open', 'one failure in half-open is enough');
    assert.equal(b.msUntilProbe(), 1_000);
    clock.time = 2_000;
    assert.equal(b.beginProbe(), true);
    b.recordSuccess();
    assert.equal(b.state, 'closed');
    assert.equal(b.consecutiveFailures, 0);
    assert.equal(b.allowsTraffic, true);
  });
});
