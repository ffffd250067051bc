import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { runWithFailover } from '../../../src/router/failover.js';
import {
  AllCandidatesFailedError,
  MayHaveRunError,
  TransportFailureError,
} from '../../../src/shared/errors.js';

const down = (id: string) =>
  new TransportFailureError(id, 'closed', `${id}: connection closed during the call`);
const always = { isAvailable: () => true };

describe('runWithFailover', () => {
  test('a transport failure moves on to the next candidate and is recorded', async () => {
    const tried: string[] = [];
    const out = await runWithFailover(
      ['a', 'b'],
      async (id) => {
        tried.push(id);
        if (id === 'a') throw down('a');
        return `from ${id}`;
      },
      always,
    );
    assert.deepEqual(tried, ['a', 'b']);
    assert.deepEqual(out, {
      result: 'from b',
      target: 'b',
      attempts: [{ target: 'a', error: 'a: connection closed during the call' }],
    });
  });

  test('any other error is final: the call may already have had side effects', async () => {
    const tried: string[] = [];
    const invalid = new ProtocolError(ProtocolErrorCode.InvalidParams, 'bad arguments');
    await assert.rejects(
      runWithFailover(
        ['a', 'b'],
        async (id) => {
          tried.push(id);
          throw invalid;
        },
        always,
      ),
      (e) => e === invalid,
    );
    assert.deepEqual(tried, ['a']);
  });

  test('a request that reached a server before it failed is not repeated elsewhere unless it may be', async () => {
    const sentThenClosed = (id: string) => {
      const error = down(id);
      error.sent = true;
      return error;
    };
    const tried: string[] = [];
    await assert.rejects(
      runWithFailover(
        ['a', 'b'],
        async (id) => {
          tried.push(id);
          throw sentThenClosed(id);
        },
        always,
      ),
      (e: unknown) => {
        assert.ok(e instanceof MayHaveRunError);
        assert.equal(e.serverId, 'a');
        assert.match(e.message, /may have run on a, so it was not retried/);
        return true;
      },
    );
    assert.deepEqual(tried, ['a']);

    const out = await runWithFailover(
      ['a', 'b'],
      async (id) => {
        if (id === 'a') throw sentThenClosed(id);
        return id;
      },
      { ...always, mayRepeat: (id) => id === 'a' },
    );
    assert.equal(out.target, 'b');
  });

  test('a result is final, even an isError one', async () => {
    const tried: string[] = [];
    const out = await runWithFailover(
      ['a', 'b'],
      async (id) => {
        tried.push(id);
        return { isError: true };
      },
      always,
    );
    assert.deepEqual(tried, ['a']);
    assert.deepEqual(out.result, { isError: true });
  });

  test('known-down candidates are skipped at once, and say so', async () => {
    const tried: string[] = [];
    const out = await runWithFailover(
      ['a', 'b'],
      async (id) => {
        tried.push(id);
        return id;
      },
      { isAvailable: (id) => id !== 'a' },
    );
    assert.deepEqual(tried, ['b']);
    assert.deepEqual(out.attempts, [{ target: 'a', error: 'unavailable (known down), skipped' }]);
  });

  test('when every candidate is known down they are still tried (one may be back)', async () => {
    const out = await runWithFailover(['a', 'b'], async (id) => id, { isAvailable: () => false });
    assert.equal(out.target, 'a');
    assert.deepEqual(out.attempts, []);
  });

  test('all failing: one candidate rethrows its own error, several name each target and why', async () => {
    await assert.rejects(
      runWithFailover(['a'], async (id) => Promise.reject(down(id)), always),
      (e) => e instanceof TransportFailureError && e.serverId === 'a',
    );
    await assert.rejects(
      runWithFailover(['a', 'b'], async (id) => Promise.reject(down(id)), always),
      (e) =>
        e instanceof AllCandidatesFailedError &&
        e.attempts.length === 2 &&
        /a \(a: connection closed.*b \(b: connection closed/.test(e.message),
    );
  });
});
