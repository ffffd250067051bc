import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentIds } from '../../../src/coordination/bus/recent-ids.js';

describe('RecentIds', () => {
  it('remembers the last N ids and forgets the oldest first', () => {
    const recent = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) recent.add(id);
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => recent.has(id)),
      [true, true, true],
    );
    recent.add('d');
    assert.equal(recent.has('a'), false, 'the oldest went');
    assert.deepEqual(
      ['b', 'c', 'd'].map((id) => recent.has(id)),
      [true, true, true],
    );
    assert.equal(recent.size, 3);
  });

  it('an id noted twice takes one place', () => {
    const recent = new RecentIds(2);
    recent.add('a');
    recent.add('a');
    recent.add('b');
    assert.equal(recent.has('a'), true);
    assert.equal(recent.size, 2);
  });
});
