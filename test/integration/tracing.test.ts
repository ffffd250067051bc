/**
 * OpenTelemetry: with an OTLP endpoint configured, a routed call is a span of the caller's trace
 * (its W3C traceparent continued), the downstream call carries the coordinator's span as parent,
 * and the spans reach a real OTLP/HTTP receiver on loopback.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { modernServer, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { startHttp, v2Client, type HttpCoordinator } from '../helpers/http.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
}

describe('tracing: the caller trace continued through the coordinator to the downstream', () => {
  const dir = tempDir();
  const spans: ExportedSpan[] = [];
  let receiver: Server;
  let c: HttpCoordinator;
  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const parsed = JSON.parse(body) as {
            resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }>;
          };
          for (const r of parsed.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    const file = writeConfig(dir.path, { servers: { neo: modernServer('neo') } });
    c = await startHttp(file, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
  });
  after(async () => {
    await c.stop();
    receiver.close();
    dir.remove();
  });

  test('a traceparent in _meta: the coordinator span is its child and the downstream call the span child', async () => {
    const client = await v2Client(c.url, { era: 'modern' });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const callerSpan = '00f067aa0ba902b7';
      const result = await client.callTool({
        name: 'neo__whoami',
        arguments: {},
        _meta: { traceparent: `00-${traceId}-${callerSpan}-01` },
      });
      const seen = (result.structuredContent as { traceparent: string | null }).traceparent;
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen ?? '');
      assert.ok(match, `the downstream saw a traceparent: ${seen}`);
      assert.equal(match[1], traceId, 'same trace');
      assert.notEqual(match[2], callerSpan, "the coordinator's own span is the downstream's parent");
      const span = await waitFor(
        () => spans.find((s) => s.spanId === match[2]),
        10_000,
        'the span exported to the OTLP receiver',
      );
      assert.equal(span.traceId, traceId);
      assert.equal(span.parentSpanId, callerSpan);
      assert.equal(span.name, 'tools/call neo__whoami');
      const attr = (key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;
      assert.equal(attr('mcp.method.name'), 'tools/call');
      assert.equal(attr('mcp.coordinator.target'), 'neo');

      // Without one, the coordinator starts the trace.
      const root = await client.callTool({ name: 'neo__whoami', arguments: {} });
      const rootSeen = (root.structuredContent as { traceparent: string | null }).traceparent ?? '';
      const rootSpan = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(rootSeen);
      assert.ok(rootSpan && rootSpan[1] !== traceId);
      const exported = await waitFor(
        () => spans.find((s) => s.spanId === rootSpan[2]),
        10_000,
        'the root span',
      );
      assert.equal(exported.parentSpanId, undefined);
    } finally {
      await client.close();
    }
  });
});
