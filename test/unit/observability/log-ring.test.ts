import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { LogRing, stderrLevel, type LogLine } from '../../../src/observability/log-ring.js';
import { createLogger } from '../../../src/shared/logger.js';
import { clearSecrets, markSecret } from '../../../src/shared/redact.js';

afterEach(() => clearSecrets());

describe('LogRing', () => {
  it('keeps at most maxLines lines, oldest dropped, ids consecutive and monotonic', () => {
    const ring = new LogRing({ maxLines: 5, clock: () => Date.UTC(2026, 0, 1) });
    for (let i = 1; i <= 12; i++) ring.push('coordinator', 'info', `line ${i}`);
    assert.equal(ring.size, 5);
    const lines = ring.query();
    assert.deepEqual(
      lines.map((l) => l.id),
      [8, 9, 10, 11, 12],
    );
    assert.deepEqual(
      lines.map((l) => l.message),
      ['line 8', 'line 9', 'line 10', 'line 11', 'line 12'],
    );
    assert.equal(lines[0]!.time, '2026-01-01T00:00:00.000Z');
    assert.equal(ring.lastId, 12);
  });

  it('keeps the message bytes under maxBytes and cuts an oversized message', () => {
    const ring = new LogRing({ maxLines: 1000, maxBytes: 1000, maxMessageBytes: 300 });
    for (let i = 0; i < 50; i++) ring.push('server:a', 'info', `${i} `.padEnd(100, 'x'));
    assert.ok(ring.byteSize <= 1000, `${ring.byteSize} bytes held`);
    assert.equal(ring.size, 10);
    assert.equal(ring.query().at(-1)!.message.slice(0, 3), '49 ');
    const big = ring.push('server:a', 'info', 'y'.repeat(5000));
    assert.ok(Buffer.byteLength(big.message) < 400);
    assert.match(big.message, /\[cut, 5000 bytes\]$/);
    assert.ok(ring.byteSize <= 1000);
  });

  it('filters by source (exact or prefix*) and minimum level; limit and since', () => {
    const ring = new LogRing();
    ring.push('coordinator', 'debug', 'd');
    ring.push('coordinator/bus', 'info', 'i');
    ring.push('server:a', 'warn', 'w');
    ring.push('server:b', 'error', 'e');
    ring.push('server:a', 'info', 'i2');
    const msgs = (lines: LogLine[]) => lines.map((l) => l.message);
    assert.deepEqual(msgs(ring.query({ level: 'warn' })), ['w', 'e']);
    assert.deepEqual(msgs(ring.query({ source: 'server:a' })), ['w', 'i2']);
    assert.deepEqual(msgs(ring.query({ source: 'server:*' })), ['w', 'e', 'i2']);
    assert.deepEqual(msgs(ring.query({ source: 'coordinator*', level: 'info' })), ['i']);
    assert.deepEqual(msgs(ring.query({ limit: 2 })), ['e', 'i2'], 'without since: the newest');
    assert.deepEqual(msgs(ring.query({ since: 2, limit: 2 })), ['w', 'e'], 'with since: the first after it');
    assert.deepEqual(msgs(ring.query({ since: 5 })), []);
    assert.deepEqual(msgs(ring.query({ since: 0 })), ['d', 'i', 'w', 'e', 'i2']);
  });

  it('since an id that was already dropped gives everything held', () => {
    const ring = new LogRing({ maxLines: 3 });
    for (let i = 1; i <= 6; i++) ring.push('coordinator', 'info', `${i}`);
    assert.deepEqual(
      ring.query({ since: 1 }).map((l) => l.id),
      [4, 5, 6],
    );
    assert.deepEqual(
      ring.query({ since: 5 }).map((l) => l.id),
      [6],
    );
  });

  it('redacts every message before it is stored', () => {
    markSecret('s3cr3t-token-value');
    const ring = new LogRing();
    ring.push('server:a', 'info', 'connecting with s3cr3t-token-value to http://ada:pw@db/x');
    ring.push('server:a', 'info', 'Authorization: Bearer abcdefghijklmnop');
    const text = JSON.stringify(ring.query());
    assert.ok(!text.includes('s3cr3t-token-value'));
    assert.ok(!text.includes('ada:pw'));
    assert.ok(!text.includes('abcdefghijklmnop'));
    assert.match(text, /\*\*\*/);
  });

  it('counts lines per source, following eviction', () => {
    const ring = new LogRing({ maxLines: 3 });
    ring.push('server:a', 'info', '1');
    ring.push('server:b', 'info', '2');
    ring.push('server:a', 'info', '3');
    assert.deepEqual(ring.sources(), [
      { source: 'server:a', count: 2 },
      { source: 'server:b', count: 1 },
    ]);
    ring.push('coordinator', 'info', '4');
    ring.push('coordinator', 'info', '5');
    assert.deepEqual(ring.sources(), [
      { source: 'coordinator', count: 2 },
      { source: 'server:a', count: 1 },
    ]);
  });

  it('tells subscribers of each new line until they unsubscribe; a throwing one harms nobody', () => {
    const ring = new LogRing();
    const got: number[] = [];
    const stop = ring.subscribe((line) => got.push(line.id));
    const stopBad = ring.subscribe(() => {
      throw new Error('listener bug');
    });
    assert.equal(ring.listenerCount, 2);
    ring.push('coordinator', 'info', 'a');
    stop();
    stop();
    stopBad();
    ring.push('coordinator', 'info', 'b');
    assert.deepEqual(got, [1]);
    assert.equal(ring.listenerCount, 0);
  });

  it('guesses a stderr line level only when the line says so', () => {
    assert.equal(stderrLevel('Error: ENOENT: no such file'), 'error');
    assert.equal(stderrLevel('[ERROR] boom'), 'error');
    assert.equal(stderrLevel('2026-01-01T00:00:00Z FATAL crashed'), 'error');
    assert.equal(stderrLevel('WARNING: deprecated flag'), 'warn');
    assert.equal(stderrLevel('[warn] slow'), 'warn');
    assert.equal(stderrLevel('memory ready'), 'info');
    assert.equal(stderrLevel('Secure MCP Filesystem Server running on stdio'), 'info');
    assert.equal(stderrLevel('terrorist'), 'info', 'whole words only');
  });
});

describe('logger tee', () => {
  it('hands every written line to its sinks and leaves stderr output unchanged', () => {
    const written: string[] = [];
    const plain: string[] = [];
    const logger = createLogger({ level: 'info', write: (l) => written.push(l) });
    const reference = createLogger({ level: 'info', write: (l) => plain.push(l) });
    const ring = new LogRing();
    const stop = logger.addSink!(({ level, scope, message }) =>
      ring.push(scope ? `coordinator/${scope}` : 'coordinator', level, message),
    );
    for (const l of [logger, reference]) {
      l.info('started', { port: 1 });
      l.child('bus').warn('slow');
      l.debug('not shown');
      l.child('downstream')
        .child('mem')
        .error('gone', { error: new Error('EPIPE') });
    }
    assert.deepEqual(written, plain);
    assert.deepEqual(
      ring.query().map((l) => [l.source, l.level, l.message]),
      [
        ['coordinator', 'info', 'started {"port":1}'],
        ['coordinator/bus', 'warn', 'slow'],
        ['coordinator/downstream:mem', 'error', 'gone {"error":"EPIPE"}'],
      ],
    );
    stop();
    logger.info('after');
    assert.equal(ring.size, 3);
  });
});
