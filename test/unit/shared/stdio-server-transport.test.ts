import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { MAX_REQUEST_BYTES } from '../../../src/shared/json-lines.js';
import { StdioServerTransport } from '../../../src/shared/stdio-server-transport.js';
import { describeOversize } from '../../../src/shared/oversize.js';

/** A transport over in-memory pipes; what it writes is parsed back line by line. */
function pipes(maxMessageBytes?: number, maxReplyBytes?: number) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new StdioServerTransport(stdin, stdout, maxMessageBytes, maxReplyBytes);
  const received: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closed = false;
  transport.onmessage = (m) => received.push(m);
  transport.onerror = (e) => errors.push(e);
  transport.onclose = () => (closed = true);
  const replies: Array<{ id: unknown; error?: { code: number; message: string } }> = [];
  let buffered = '';
  stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) replies.push(JSON.parse(part));
  });
  return { stdin, transport, received, errors, replies, closed: () => closed };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const request = (id: number, extra = '') =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"x","arguments":{"blob":"${extra}"}}}\n`;

describe('StdioServerTransport input limits', () => {
  it('answers an over-size request with -32600 naming the limit, and the session goes on', async () => {
    const t = pipes();
    await t.transport.start();
    const big = 'x'.repeat(MAX_REQUEST_BYTES + 1024);
    // Written in pieces, as a pipe delivers it.
    const line = request(7, big);
    for (let at = 0; at < line.length; at += 65_536) t.stdin.write(line.slice(at, at + 65_536));
    t.stdin.write(request(8));
    await until(() => t.replies.length === 1 && t.received.length === 1, 'the reply and the next request');
    assert.equal(t.replies[0]!.id, 7);
    assert.equal(t.replies[0]!.error?.code, -32600);
    assert.match(t.replies[0]!.error!.message, /exceeds the 4 MB limit \(4194304 bytes\)/);
    assert.equal((t.received[0] as { id: number }).id, 8);
    assert.equal(t.closed(), false);
    assert.equal(t.errors.length, 1);
  });

  it('finds the id of an over-size request at its end, and fails our own request it answers', async () => {
    const t = pipes(1024);
    await t.transport.start();
    t.stdin.write(`{"jsonrpc":"2.0","method":"m","params":{"p":"${'y'.repeat(4096)}"},"id":"late"}\n`);
    const response = `{"jsonrpc":"2.0","id":3,"result":{"content":"${'z'.repeat(4096)}"}}`;
    t.stdin.write(`${response}\n`);
    await until(() => t.replies.length === 1 && t.received.length === 1, 'the reply and the failed response');
    assert.equal(t.replies[0]!.id, 'late');
    assert.deepEqual(t.received[0], {
      jsonrpc: '2.0',
      id: 3,
      error: {
        code: -32600,
        message: `Response too large: message of ${response.length} bytes exceeds the 1 KB limit (1024 bytes); it was not read`,
      },
    });
  });

  it('never answers a malformed response (its id would fail the own request of the client)', async () => {
    const t = pipes();
    await t.transport.start();
    t.stdin.write('{"jsonrpc":"2.0","id":4,"result":[1,2]}\n{"jsonrpc":"2.0","id":5,"error":"no"}\n');
    // A line that is answered: once its reply is out, any reply to the two above would be too.
    t.stdin.write('not json\n');
    await until(() => t.replies.length > 0, 'the parse error reply');
    assert.deepEqual(
      t.replies.map((r) => [r.id, r.error?.code]),
      [[null, -32700]],
    );
    assert.equal(t.errors.length, 3);
  });

  it('replies -32700 to a line that is not JSON and -32600 to one that is not JSON-RPC', async () => {
    const t = pipes();
    await t.transport.start();
    t.stdin.write('this is not json\n{"jsonrpc":"2.0","id":5,"method":42}\n{"jsonrpc":"1.0","id":6}\n');
    t.stdin.write(request(9));
    await until(() => t.replies.length === 3 && t.received.length === 1, 'three replies');
    assert.deepEqual(
      t.replies.map((r) => [r.id, r.error?.code]),
      [
        [null, -32700],
        [5, -32600],
        [6, -32600],
      ],
    );
    assert.equal((t.received[0] as { id: number }).id, 9);
  });
});

describe('describeOversize', () => {
  it('tells requests from responses and finds top-level ids only', () => {
    const d = (head: string, tail = head) => describeOversize({ head, tail, bytes: 0 });
    assert.deepEqual(d('{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"a'), {
      id: 12,
      kind: 'request',
      bytes: 0,
    });
    assert.equal(d('{"jsonrpc":"2.0","result":{"id":4,', 'x"}},"id":"r1"}').id, 'r1');
    assert.equal(d('{"jsonrpc":"2.0","result":{"id":4,', 'x"}}}').id, null);
    assert.equal(d('{"jsonrpc":"2.0","result":{"id":4,', 'x"}}}').kind, 'response');
    assert.equal(d('garbage', 'garbage').kind, 'unknown');
  });
});

describe('StdioServerTransport output limits', () => {
  it('replaces a reply over the limit with an error naming it; other messages over it are not sent (the send still resolves)', async () => {
    const { transport, errors, replies: lines } = pipes(undefined, 1_000);
    await transport.start();
    const big = 'é'.repeat(600); // 1,200 bytes of UTF-8 in 600 characters
    await transport.send({ jsonrpc: '2.0', id: 4, result: { content: [{ type: 'text', text: big }] } });
    // Resolves (many callers do not catch a notification's send), but is not written.
    await transport.send({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: big },
    });
    await transport.send({ jsonrpc: '2.0', id: 5, result: { ok: true } });
    await until(() => lines.length === 2, 'two lines');
    assert.equal(lines[0]!.id, 4);
    assert.equal(lines[0]!.error?.code, -32603);
    assert.match(lines[0]!.error!.message, /^Response too large: message of \d+ bytes exceeds/);
    assert.deepEqual(lines[1], { jsonrpc: '2.0', id: 5, result: { ok: true } });
    assert.equal(errors.length, 2);
    assert.match(
      errors[1]!.message,
      /dropped a message to the client: message of \d+ bytes exceeds the .* limit a client reads \(1000 bytes\)/,
    );
  });
});
