import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildGroups } from '../../../src/downstream/child-groups.js';
import { MAX_STDERR_LINE_BYTES, StderrLines } from '../../../src/downstream/stderr-lines.js';
import { ChildProcessTransport } from '../../../src/downstream/stdio-transport.js';
import { waitFor } from './helpers.js';

function split(chunks: Array<string | Buffer>, max?: number): string[] {
  const out: string[] = [];
  const lines = new StderrLines((line) => out.push(line), max);
  for (const chunk of chunks) lines.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  lines.end();
  return out;
}

describe('StderrLines', () => {
  it('ends lines at \\n, \\r\\n (even split across chunks) and a lone \\r, keeping characters whole', () => {
    const euro = Buffer.from('€');
    assert.deepEqual(split(['a\nb\r', '\nc\rd', euro.subarray(0, 1), euro.subarray(1), '\r\n\n', 'tail']), [
      'a',
      'b',
      'c',
      'd€',
      'tail',
    ]);
  });

  it('passes on the head of an over-long line at once and one notice counting the rest', () => {
    const out = split(['0123', '456789abc', 'def\nnext\n'], 8);
    assert.deepEqual(out, [
      '01234567 … [line cut at 8 bytes]',
      '(8 more bytes of that stderr line dropped)',
      'next',
    ]);
  });

  it('holds at most one capped line, however much arrives without a newline', () => {
    const out: string[] = [];
    const lines = new StderrLines((line) => out.push(line));
    const mb = Buffer.alloc(1024 * 1024, 0x78);
    let peak = 0;
    for (let i = 0; i < 64; i++) {
      lines.push(mb);
      peak = Math.max(peak, lines.bufferedBytes);
    }
    lines.end();
    assert.ok(peak <= MAX_STDERR_LINE_BYTES, `held ${peak} bytes`);
    assert.equal(out.length, 2);
    assert.ok(out[0]!.startsWith('x'.repeat(MAX_STDERR_LINE_BYTES)));
    assert.equal(
      out[1],
      `(${64 * 1024 * 1024 - MAX_STDERR_LINE_BYTES} more bytes of that stderr line dropped)`,
    );
  });
});

describe('ChildProcessTransport stderr', () => {
  it('caps a child that writes 32 MB of stderr without a newline, then goes on line by line', async () => {
    const script = `
      const mb = Buffer.alloc(1 << 20, 0x78);
      for (let i = 0; i < 32; i++) process.stderr.write(mb);
      process.stderr.write('\\ndone\\n');
      setTimeout(() => {}, 60_000);`;
    const lines: string[] = [];
    const t = new ChildProcessTransport({
      serverId: 'flood',
      command: process.execPath,
      args: ['-e', script],
      env: {},
      onStderrLine: (line) => lines.push(line),
      groups: new ChildGroups(),
    });
    await t.start();
    try {
      await waitFor(() => lines.includes('done'), 60_000, 'the line after the flood');
    } finally {
      await t.close();
    }
    assert.equal(lines.length, 3, `got ${lines.length} lines`);
    assert.ok(lines[0]!.length < MAX_STDERR_LINE_BYTES + 64, `first line is ${lines[0]!.length} long`);
    assert.equal(
      lines[1],
      `(${32 * 1024 * 1024 - MAX_STDERR_LINE_BYTES} more bytes of that stderr line dropped)`,
    );
    assert.equal(lines[2], 'done');
  });
});

describe('ChildProcessTransport stdout limit', () => {
  it('fails only the request whose response is over the limit; the session goes on', async () => {
    // Answers every request with a result; "big" gets one of 256 KB.
    const script = `
      let buf = '';
      process.stdin.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\\n')) >= 0) {
          const m = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          const text = m.method === 'big' ? 'x'.repeat(256 * 1024) : 'small';
          process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { text } }) + '\\n');
        }
      });`;
    const t = new ChildProcessTransport({
      serverId: 'huge',
      command: process.execPath,
      args: ['-e', script],
      env: {},
      onStderrLine: () => {},
      groups: new ChildGroups(),
      maxMessageBytes: 64 * 1024,
    });
    const received: unknown[] = [];
    const errors: Error[] = [];
    let closed = false;
    t.onmessage = (m) => received.push(m);
    t.onerror = (e) => errors.push(e);
    t.onclose = () => (closed = true);
    await t.start();
    try {
      await t.send({ jsonrpc: '2.0', id: 1, method: 'big' });
      await t.send({ jsonrpc: '2.0', id: 2, method: 'small' });
      await waitFor(() => received.length === 2, 30_000, 'both answers');
    } finally {
      await t.close();
    }
    const [first, second] = received as Array<{ id: number; error?: { code: number; message: string } }>;
    assert.equal(first!.id, 1);
    assert.equal(first!.error?.code, -32600);
    assert.match(first!.error!.message, /^huge: message of \d+ bytes on stdout exceeds the 64 KB limit/);
    assert.deepEqual(second, { jsonrpc: '2.0', id: 2, result: { text: 'small' } });
    assert.equal(closed, true);
    assert.equal(errors.length, 1);
  });
});
