import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestStateSealer } from '../../../src/server/request-state.js';

describe('RequestStateSealer', () => {
  it('opens what it sealed, for the same caller, byte for byte', () => {
    const sealer = new RequestStateSealer('s3cret');
    const state = { k: 'p' as const, d: 'neo', rs: 'opaque "state" ✓ of a downstream' };
    assert.deepEqual(sealer.open(sealer.seal(state, 'caller-1'), 'caller-1'), state);
  });

  it('refuses another caller, a tampered token, garbage and a token of another key', () => {
    const sealer = new RequestStateSealer('s3cret');
    const token = sealer.seal({ k: 'x', x: 'exchange-1' }, 'caller-1');
    assert.throws(() => sealer.open(token, 'caller-2'), /another caller/);
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(body, 'base64url').toString('utf8').replace('caller-1', 'caller-2');
    assert.throws(
      () => sealer.open(`${Buffer.from(forged).toString('base64url')}.${mac}`, 'caller-2'),
      /signature/,
    );
    assert.throws(() => sealer.open('not-a-token', 'caller-1'), /malformed/);
    assert.throws(() => new RequestStateSealer('other').open(token, 'caller-1'), /signature/);
    // Without a secret each process has its own random key.
    assert.throws(
      () =>
        new RequestStateSealer(undefined).open(
          new RequestStateSealer(undefined).seal({ k: 'x', x: 'e' }, 'c'),
          'c',
        ),
      /signature/,
    );
  });

  it('shares tokens between instances with the same secret', () => {
    const token = new RequestStateSealer('shared').seal({ k: 'x', x: 'e' }, 'c');
    assert.deepEqual(new RequestStateSealer('shared').open(token, 'c'), { k: 'x', x: 'e' });
  });

  it('refuses an expired token', () => {
    let now = 1_000;
    const sealer = new RequestStateSealer('s3cret', 60_000, () => now);
    const token = sealer.seal({ k: 'x', x: 'e' }, 'c');
    now += 59_999;
    assert.deepEqual(sealer.open(token, 'c'), { k: 'x', x: 'e' });
    now += 1;
    assert.throws(() => sealer.open(token, 'c'), /expired/);
  });
});
