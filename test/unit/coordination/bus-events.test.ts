import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EventIdGenerator,
  checkSignature,
  createEvent,
  createSeenIds,
  eventIdTime,
  matchesType,
  parseEvent,
  signEvent,
  verifyEvent,
} from '../../../src/coordination/events.js';
import { canonicalJson } from '../../../src/shared/canonical-json.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

describe('event ids', () => {
  it('sort by time, then by publication order within one millisecond', () => {
    const ids = new EventIdGenerator();
    const made = [ids.next(T0), ids.next(T0), ids.next(T0 + 1), ids.next(T0 + 1000)];
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, 4);
    assert.equal(eventIdTime(made[0]!), T0);
  });

  it('keep increasing when the clock steps back', () => {
    const ids = new EventIdGenerator();
    const a = ids.next(T0);
    const b = ids.next(T0 - 5_000);
    assert.ok(b > a, `${b} should sort after ${a}`);
  });

  it('differ between two generators in the same millisecond', () => {
    assert.notEqual(new EventIdGenerator().next(T0), new EventIdGenerator().next(T0));
  });

  it('are recognised, and other strings are not', () => {
    assert.equal(eventIdTime('1700000000000-5'), undefined);
    assert.equal(eventIdTime('2026-03-01T10:00:00Z'), undefined);
  });
});

describe('createEvent', () => {
  it('stamps id, source, agent and an ISO time from the injected clock', () => {
    const event = createEvent(
      { type: 'task:claimed', data: { taskId: 't1' } },
      { source: 'coord-1', agentId: 'agent-1', clock: () => T0 },
    );
    assert.deepEqual(
      { ...event, id: 'x' },
      {
        id: 'x',
        type: 'task:claimed',
        source: 'coord-1',
        agentId: 'agent-1',
        data: { taskId: 't1' },
        timestamp: '2026-03-01T10:00:00.000Z',
      },
    );
    assert.equal(eventIdTime(event.id), T0);
  });
});

describe('signing', () => {
  const event = () =>
    createEvent(
      { type: 'file:locked', data: { file: 'a.ts', nested: { b: 1, a: [2, { y: 1, x: 0 }] } } },
      {
        source: 's',
        agentId: 'a',
        clock: () => T0,
      },
    );

  it('serialises canonically: key order does not matter, array order does', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
  });

  it('verifies after a JSON round trip with reordered keys', () => {
    const signed = signEvent(event(), 'k');
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse())));
    assert.equal(verifyEvent(reordered, 'k', T0), 'ok');
  });

  it('tells unsigned from forged', () => {
    const signed = signEvent(event(), 'k');
    assert.equal(verifyEvent(event(), 'k', T0), 'unsigned');
    assert.equal(verifyEvent({ ...signed, signature: '' }, 'k', T0), 'unsigned');
    assert.equal(verifyEvent(signed, 'other', T0), 'forged');
    assert.equal(verifyEvent({ ...signed, agentId: 'mallory' }, 'k', T0), 'forged');
    assert.equal(verifyEvent({ ...signed, data: { file: 'b.ts' } }, 'k', T0), 'forged');
    assert.equal(verifyEvent({ ...signed, signature: signed.signature!.slice(0, 62) }, 'k', T0), 'forged');
    assert.equal(verifyEvent({ ...signed, signature: `zz${signed.signature!.slice(2)}` }, 'k', T0), 'forged');
    // A field a newer publisher added is covered by the signature too.
    assert.equal(checkSignature({ ...signed, extra: 1 }, 'k'), 'forged');
  });

  it('treats events older or further ahead than the window, and repeated ids, as replays', () => {
    const signed = signEvent(event(), 'k');
    assert.equal(verifyEvent(signed, 'k', T0 + 60_000), 'ok');
    assert.equal(verifyEvent(signed, 'k', T0 + 60_001), 'replayed');
    assert.equal(verifyEvent(signed, 'k', T0 - 60_001), 'replayed');
    assert.equal(verifyEvent(signed, 'k', T0 + 10, 5), 'replayed');
    const seen = createSeenIds();
    assert.equal(verifyEvent(signed, 'k', T0, 60_000, seen), 'ok');
    assert.equal(verifyEvent(signed, 'k', T0, 60_000, seen), 'replayed');
    // A forged copy is not remembered as seen.
    const other = signEvent(
      createEvent({ type: 'agent:left', data: {} }, { source: 's', agentId: 'a', clock: () => T0 }),
      'k',
    );
    assert.equal(verifyEvent({ ...other, source: 'x' }, 'k', T0, 60_000, seen), 'forged');
    assert.equal(verifyEvent(other, 'k', T0, 60_000, seen), 'ok');
  });
});

describe('parseEvent', () => {
  it('accepts a contract event and keeps only its fields', () => {
    const event = signEvent(
      createEvent({ type: 'tools:changed', data: {} }, { source: 's', agentId: 'a' }),
      'k',
    );
    const parsed = parseEvent(JSON.stringify({ ...event, future: true }));
    assert.deepEqual(parsed?.event, event);
    assert.equal((parsed?.raw as unknown as { future: boolean }).future, true);
  });

  it('refuses non-JSON, unknown types and missing fields', () => {
    const event = createEvent({ type: 'tools:changed', data: {} }, { source: 's', agentId: 'a' });
    assert.equal(parseEvent('{'), undefined);
    assert.equal(parseEvent('null'), undefined);
    assert.equal(parseEvent(JSON.stringify({ ...event, type: 'file:exploded' })), undefined);
    assert.equal(parseEvent(JSON.stringify({ ...event, data: [] })), undefined);
    const { source: _s, ...noSource } = event;
    assert.equal(parseEvent(JSON.stringify(noSource)), undefined);
  });
});

describe('matchesType', () => {
  it('matches *, families, exact types and comma lists', () => {
    assert.ok(matchesType('file:locked', '*'));
    assert.ok(matchesType('file:locked', undefined));
    assert.ok(matchesType('file:locked', ''));
    assert.ok(matchesType('file:lock_expired', 'file:*'));
    assert.ok(!matchesType('task:claimed', 'file:*'));
    assert.ok(matchesType('task:claimed', 'task:claimed'));
    assert.ok(!matchesType('task:claimed', 'task:claim'));
    assert.ok(matchesType('agent:left', 'file:*, agent:left'));
    assert.ok(matchesType('health:recovered', '*:recovered'));
    assert.ok(!matchesType('health:recovered', 'health.recovered'));
  });
});
