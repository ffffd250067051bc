import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printOnce } from '../../../src/cli/print-once.js';

describe('printOnce (events --follow de-duplication)', () => {
  it('prints an id once while it is remembered, and remembers at most max ids', () => {
    const out: string[] = [];
    const print = printOnce<{ id: string }>((e) => out.push(e.id), 100);
    for (let i = 0; i < 50_000; i++) {
      print({ id: `e${i}` });
      print({ id: `e${i}` });
      if (i >= 50) print({ id: `e${i - 50}` });
    }
    assert.equal(out.length, 50_000);
    assert.deepEqual(out.slice(0, 3), ['e0', 'e1', 'e2']);
    assert.ok(print.remembered <= 100, `${print.remembered} ids remembered`);
  });
});
