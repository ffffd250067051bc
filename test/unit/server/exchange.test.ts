import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Exchange } from '../../../src/server/exchange.js';

const ask = (method: string) => ({ method, params: {} });

describe('Exchange', () => {
  it('hands a downstream question to the client and its answer back to the downstream', async () => {
    const exchange = new Exchange<string>('x1', 'caller', 'old');
    let finish!: (value: string) => void;
    exchange.attach(new Promise<string>((resolve) => (finish = resolve)));
    const answered = exchange.ask(ask('elicitation/create'), new AbortController().signal);
    const step = await exchange.next();
    assert.equal(step.done, false);
    const keys = step.done ? [] : Object.keys(step.inputRequests);
    assert.equal(keys.length, 1);
    assert.deepEqual(exchange.answer({ [keys[0]!]: { action: 'accept' } }), []);
    assert.deepEqual(await answered, { action: 'accept' });
    finish('done');
    assert.deepEqual(await exchange.next(), { done: true, result: 'done' });
  });

  it('a question the retry leaves unanswered is refused to the downstream, and named', async () => {
    const exchange = new Exchange<string>('x2', 'caller', 'old');
    exchange.attach(new Promise<string>(() => {}));
    const answered = exchange.ask(ask('sampling/createMessage'), new AbortController().signal);
    const step = await exchange.next();
    const key = step.done ? '' : Object.keys(step.inputRequests)[0]!;
    assert.deepEqual(exchange.answer({}), [key]);
    await assert.rejects(answered, /gave no answer to sampling\/createMessage/);
  });

  it('when the call ends first, open questions are withdrawn and the outcome reported', async () => {
    const exchange = new Exchange<string>('x3', 'caller', 'old');
    let fail!: (error: Error) => void;
    exchange.attach(new Promise<string>((_, reject) => (fail = reject)));
    const answered = exchange.ask(ask('roots/list'), new AbortController().signal);
    fail(new Error('old: no answer within its timeout'));
    await assert.rejects(answered, /call ended before the client answered/);
    await assert.rejects(exchange.next(), /no answer within its timeout/);
    assert.equal(exchange.settled, true);
    await assert.rejects(exchange.ask(ask('roots/list'), new AbortController().signal), /has ended/);
  });

  it('a downstream that cancels its question takes it back', async () => {
    const exchange = new Exchange<string>('x4', 'caller', 'old');
    exchange.attach(new Promise<string>(() => {}));
    const cancel = new AbortController();
    const answered = exchange.ask(ask('elicitation/create'), cancel.signal);
    cancel.abort();
    await assert.rejects(answered, /cancelled by the downstream/);
  });

  it('two waiters (the same retry sent twice) both hear the outcome', async () => {
    const exchange = new Exchange<string>('x5', 'caller', 'old');
    let finish!: (value: string) => void;
    exchange.attach(new Promise<string>((resolve) => (finish = resolve)));
    const first = exchange.next();
    const second = exchange.next();
    finish('once');
    assert.deepEqual(await first, { done: true, result: 'once' });
    assert.deepEqual(await second, { done: true, result: 'once' });
  });
});
