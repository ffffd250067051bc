import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentPresence } from '../../../src/server/presence.js';

function presence(idleMs = 1_000, maxAgents?: number) {
  let now = 0;
  const registered: string[] = [];
  const left: string[] = [];
  const p = new AgentPresence({
    register: (id) => registered.push(id),
    leave: (id) => left.push(id),
    idleMs,
    now: () => now,
    ...(maxAgents !== undefined && { maxAgents }),
  });
  return { p, registered, left, advance: (ms: number) => (now += ms) };
}

test('an agent is registered once, however many stateless requests act as it', () => {
  const { p, registered } = presence();
  for (let i = 0; i < 100; i++) p.seen('alice', { name: 'ide' }, false);
  assert.deepEqual(registered, ['alice']);
});

test('an agent with an open session stays; once its last session closed and it idled, it leaves', () => {
  const { p, left, advance } = presence(1_000);
  p.seen('bob', undefined, true);
  p.seen('bob', undefined, true);
  advance(5_000);
  assert.deepEqual(p.sweep(), []);
  p.closed('bob');
  advance(5_000);
  assert.deepEqual(p.sweep(), [], 'one session still open');
  p.closed('bob');
  advance(999);
  assert.deepEqual(p.sweep(), []);
  advance(2);
  assert.deepEqual(p.sweep(), ['bob']);
  assert.deepEqual(left, ['bob']);
  assert.equal(p.size, 0);
});

test('a stateless agent leaves after idling; a new request registers it again', () => {
  const { p, registered, advance } = presence(1_000);
  p.seen('carol', undefined, false);
  advance(1_001);
  assert.deepEqual(p.sweep(), ['carol']);
  p.seen('carol', undefined, false);
  assert.deepEqual(registered, ['carol', 'carol']);
});

test('bounded: past maxAgents the least recently seen idle agent leaves first', () => {
  const { p, left, advance } = presence(60_000, 2);
  p.seen('a', undefined, true);
  advance(1);
  p.seen('b', undefined, false);
  advance(1);
  p.seen('c', undefined, false);
  assert.deepEqual(left, ['b'], 'a has an open session; b is the oldest idle one');
  assert.equal(p.size, 2);
});
