/** The proof's history checker must itself catch what it is there to catch. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CoordinationEvent, EventType } from '../../../src/coordination/types.js';
import { checkLockHistory, pairKey } from '../../contract/lock-history.js';

let n = 0;
const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
function ev(type: EventType, data: Record<string, unknown>, stampedAt = at(99)): CoordinationEvent {
  return { id: String(++n), type, source: 's', agentId: String(data.holder), data, timestamp: stampedAt };
}
const locked = (holder: string, from: number, until: number) =>
  ev('file:locked', { file: 'a.ts', holder, acquiredAt: at(from), expiresAt: at(until) });
const unlocked = (holder: string, from: number, releasedAt: number) =>
  ev('file:unlocked', { file: 'a.ts', holder, acquiredAt: at(from), releasedAt: at(releasedAt) });
const expired = (holder: string, from: number, until: number) =>
  ev('file:lock_expired', { file: 'a.ts', holder, acquiredAt: at(from), expiresAt: at(until) });

describe('checkLockHistory', () => {
  it('accepts holders one after another, whatever order the events arrive in', () => {
    const history = [locked('b', 5, 60), unlocked('b', 5, 8), unlocked('a', 1, 5), locked('a', 1, 60)];
    history.push(locked('c', 8, 10), expired('c', 8, 10), locked('a', 10, 20), unlocked('a', 10, 12));
    assert.deepEqual(checkLockHistory(history), { locks: 4, violations: [], dangling: [] });
  });

  it('flags two holders at once, and a lock that never ended', () => {
    const report = checkLockHistory([locked('a', 1, 60), locked('b', 5, 60), unlocked('b', 5, 6)]);
    assert.equal(report.violations.length, 1);
    assert.match(report.violations[0]!, /b acquired .* while a held it/);
    assert.deepEqual(report.dangling, [`a.ts by a at ${at(1)}`]);
  });

  it('follows extensions, and forgives pairs whose outcome is unknown', () => {
    const extendedPast = [locked('a', 1, 5), locked('a', 1, 30), locked('b', 10, 40), unlocked('b', 10, 11)];
    assert.equal(checkLockHistory(extendedPast).violations.length, 1);
    const report = checkLockHistory(extendedPast, new Set([pairKey('a.ts', 'a')]));
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.dangling, []);
  });
});
