import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OversizeResponseError, boundedFetch } from '../../../src/shared/bounded-fetch.js';

/** A fetch that answers `body` and, like undici, keeps an abort listener on the signal until told. */
function holdingFetch(body: string) {
  const held: Array<() => void> = [];
  const base = async (_url: string | URL, init?: RequestInit): Promise<Response> => {
    const signal = init?.signal;
    if (signal) {
      const onAbort = () => {};
      signal.addEventListener('abort', onAbort);
      held.push(() => signal.removeEventListener('abort', onAbort));
    }
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { base, release: () => held.splice(0).forEach((off) => off()) };
}

describe('boundedFetch', () => {
  it('passes a body under the limit through unchanged', async () => {
    const { base } = holdingFetch('{"jsonrpc":"2.0","id":1,"result":{}}');
    const fetch = boundedFetch(1_000, () => assert.fail('not oversize'), base);
    const response = await fetch('http://127.0.0.1/mcp', { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{"jsonrpc":"2.0","id":1,"result":{}}');
  });

  it('errors a body whose one message is over the limit, and says so', async () => {
    const { base } = holdingFetch(`data: ${'x'.repeat(200)}\n\n`);
    const seen: OversizeResponseError[] = [];
    const fetch = boundedFetch(100, (error) => seen.push(error), base);
    const response = await fetch('http://127.0.0.1/mcp', { method: 'POST' });
    await assert.rejects(response.text(), OversizeResponseError);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.message, /exceeds the .* limit \(100 bytes\)/);
  });

  it('lets thousands of requests share one signal without a leak warning', async () => {
    const { base, release } = holdingFetch('{}');
    const fetch = boundedFetch(1_000, () => {}, base);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      await Promise.all(
        Array.from({ length: 2_000 }, () => fetch('http://127.0.0.1/mcp', { signal: shared.signal })),
      );
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((name) => name === 'MaxListenersExceededWarning'),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      release();
    }
  });

  it('with a replacement, puts it in an over-size message’s place and goes on (no stream error)', async () => {
    const body = `data: {"a":1}\n\ndata: ${'x'.repeat(300)}\n\ndata: {"b":2}\n\n`;
    const { base } = holdingFetch(body);
    const reported: Array<RequestInit | undefined> = [];
    const init = { method: 'POST', body: '{"jsonrpc":"2.0","id":9,"method":"tools/call"}' };
    const fetch = boundedFetch(
      100,
      (_error, given) => reported.push(given),
      base,
      (error, given) => {
        assert.ok(error instanceof OversizeResponseError);
        assert.equal(given, init);
        return 'data: {"replaced":9}\n\n';
      },
    );
    const response = await fetch('http://127.0.0.1/mcp', init);
    assert.equal(await response.text(), 'data: {"a":1}\n\ndata: {"replaced":9}\n\ndata: {"b":2}\n\n');
    assert.deepEqual(reported, [init]);
  });

  it('with a replacement, replaces a whole JSON body over the limit, or drops the message for none', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(300) } });
    const json = boundedFetch(
      100,
      () => {},
      holdingFetch(big).base,
      () => '{"error":"too large"}',
    );
    assert.equal(await (await json('http://127.0.0.1/mcp')).text(), '{"error":"too large"}');
    const none = boundedFetch(
      100,
      () => {},
      holdingFetch(`data: ${'y'.repeat(300)}\n\n: ping\n\n`).base,
      () => undefined,
    );
    assert.equal(await (await none('http://127.0.0.1/mcp')).text(), ': ping\n\n');
    // Chunks split anywhere (here: one byte at a time) make no difference.
    const bytes = new TextEncoder().encode(`data: 1\r\n\r\ndata: ${'z'.repeat(150)}\n\ndata: 2\n\n`);
    const trickle = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
            controller.close();
          },
        }),
      );
    const split = boundedFetch(
      100,
      () => {},
      trickle,
      () => 'data: R\n\n',
    );
    assert.equal(await (await split('http://127.0.0.1/mcp')).text(), 'data: 1\r\n\r\ndata: R\n\ndata: 2\n\n');
  });
});
