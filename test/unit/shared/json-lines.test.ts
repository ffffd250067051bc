import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  FramingError,
  LineReader,
  LineWriter,
  type OversizeLine,
  parseMessage,
  withRawJson,
} from '../../../src/shared/json-lines.js';

function lines(reader: LineReader, ...chunks: string[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) reader.push(Buffer.from(chunk), (line) => out.push(line));
  return out;
}

describe('LineReader', () => {
  it('splits lines within a chunk and across chunks, keeping multi-byte characters whole', () => {
    const reader = new LineReader();
    const euro = Buffer.from('€');
    const out: string[] = [];
    for (const chunk of [
      Buffer.from('a\nb'),
      Buffer.from('c\n{"x":"'),
      euro.subarray(0, 1),
      euro.subarray(1),
    ])
      reader.push(chunk, (line) => out.push(line));
    reader.push(Buffer.from('"}\nlast'), (line) => out.push(line));
    assert.deepEqual(out, ['a', 'bc', '{"x":"€"}']);
    assert.deepEqual(lines(reader, '\n'), ['last']);
  });

  it('skips empty lines and leaves a trailing \\r to JSON.parse (whitespace)', () => {
    const reader = new LineReader();
    const out = lines(reader, '\n\n{"jsonrpc":"2.0","method":"m"}\r\n');
    assert.deepEqual(out, ['{"jsonrpc":"2.0","method":"m"}\r']);
    assert.equal(parseMessage(out[0]!).jsonrpc, '2.0');
  });

  it('drops a line over the limit, keeping its edges and size, and reads on after it', () => {
    const dropped: OversizeLine[] = [];
    const reader = new LineReader(8, (line) => dropped.push(line));
    assert.deepEqual(lines(reader, 'ok\n0123', '456789', 'abc\nnext\n'), ['ok', 'next']);
    assert.deepEqual(dropped, [{ head: '0123456789abc', tail: '0123456789abc', bytes: 13 }]);
  });

  it('holds no more than the limit plus the edges, however long a line grows', () => {
    const dropped: OversizeLine[] = [];
    const reader = new LineReader(64 * 1024, (line) => dropped.push(line));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let peak = 0;
    for (let i = 0; i < 256; i++) {
      reader.push(chunk, () => assert.fail('no line yet'));
      peak = Math.max(peak, reader.bufferedBytes);
    }
    assert.ok(peak <= 64 * 1024 + 8 * 1024, `held ${peak} bytes`);
    reader.push(Buffer.from('z\n'), () => assert.fail('the long line is not delivered'));
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.bytes, 256 * 64 * 1024 + 1);
    assert.ok(dropped[0]!.tail.endsWith('az') && dropped[0]!.head.startsWith('aaa'));
  });

  it('delivers nothing more of a chunk once cleared from inside a callback', () => {
    const reader = new LineReader();
    const out: string[] = [];
    reader.push(Buffer.from('a\nb\nc\n'), (line) => {
      out.push(line);
      if (line === 'a') reader.clear();
    });
    assert.deepEqual(out, ['a']);
  });
});

describe('parseMessage', () => {
  it('accepts requests, notifications, results and errors', () => {
    for (const m of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'a', result: {} },
      { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'no' } },
    ]) {
      assert.deepEqual(parseMessage(JSON.stringify(m)), m);
    }
  });

  it('rejects what is not JSON (-32700), or not a JSON-RPC 2.0 message (-32600, with its id)', () => {
    for (const [line, code, id] of [
      ['not json', -32700, null],
      ['[]', -32600, null],
      ['{"id":1,"method":"x"}', -32600, 1],
      ['{"jsonrpc":"2.0","id":1}', -32600, 1],
      ['{"jsonrpc":"2.0","method":"m","params":[1]}', -32600, null],
      ['{"jsonrpc":"2.0","id":"k","method":5}', -32600, 'k'],
      ['{"jsonrpc":"2.0","id":{},"method":"m"}', -32600, null],
      ['{"jsonrpc":"2.0","id":true,"result":{}}', -32600, null],
    ] as const) {
      assert.throws(
        () => parseMessage(line),
        (error: unknown) => error instanceof FramingError && error.code === code && error.id === id,
        line,
      );
    }
  });
});

/** A writable that records every write call. */
function recordingStream(highWaterMark = 1 << 20, slow = false) {
  const writes: string[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      if (slow) setImmediate(done);
      else done();
    },
  });
  return { stream, writes };
}

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'n', params: { n } });

describe('LineWriter', () => {
  it('sends everything written in one turn as one write, one line per message', async () => {
    const { stream, writes } = recordingStream();
    const writer = new LineWriter(stream, () => new Error('closed'));
    const sent = [writer.write(note(1)), writer.write(note(2)), writer.write(note(3))];
    assert.equal(writes.length, 0, 'nothing written synchronously');
    await Promise.all(sent);
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0]!.split('\n'), [...[1, 2, 3].map((n) => JSON.stringify(note(n))), '']);
    await writer.write(note(4));
    assert.equal(writes.length, 2);
  });

  it('resolves after drain under backpressure', async () => {
    const { stream, writes } = recordingStream(1, true);
    const writer = new LineWriter(stream, () => new Error('closed'));
    let done = false;
    const sent = writer.write(note(1)).then(() => (done = true));
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(done, false, 'waits for drain');
    await sent;
    assert.equal(writes.length, 1);
  });

  it('rejects when the stream is gone by the time it flushes', async () => {
    const stream = new PassThrough();
    const writer = new LineWriter(stream, () => new Error('pipe closed'));
    const sent = writer.write(note(1));
    stream.destroy();
    await assert.rejects(sent, /pipe closed/);
  });

  it('writes a result that carries its own JSON as is', async () => {
    const { stream, writes } = recordingStream();
    const writer = new LineWriter(stream, () => new Error('closed'));
    const result = withRawJson({ tools: [{ name: 'a' }] });
    // The raw text wins over the object: proof that it is not serialized again.
    Object.defineProperty(result, 'tools', { value: [], enumerable: true });
    await writer.write({ jsonrpc: '2.0', id: 7, result });
    assert.deepEqual(JSON.parse(writes[0]!), { jsonrpc: '2.0', id: 7, result: { tools: [{ name: 'a' }] } });
    assert.deepEqual(Object.keys(result), ['tools'], 'the raw JSON is not enumerable');
  });
});
