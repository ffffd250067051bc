/**
 * OpenTelemetry traces of routed calls, when an OTLP endpoint is configured (the standard
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`): a
 * W3C `traceparent` in the call's `_meta` is continued — the coordinator's span is its child, and
 * the downstream call carries the coordinator's span as its parent. Spans are exported in batches
 * as OTLP/HTTP JSON; nothing on the call path waits for the exporter, and a failing collector
 * costs dropped spans (counted), never a call. Without an endpoint nothing of this runs.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../shared/logger.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

export interface SpanContext {
  traceId: string;
  spanId: string;
  flags: string;
}

/** A W3C traceparent header value, or undefined when it is not a valid version-00 one. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

export interface Span {
  readonly context: SpanContext;
  /** The traceparent to send downstream: this span as the parent. */
  readonly traceparent: string;
  setAttribute(key: string, value: string | number | boolean): void;
  end(error?: string): void;
}

interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message?: string };
}

export interface TracerOptions {
  endpoint: string;
  serviceName: string;
  serviceVersion: string;
  logger: Logger;
  /** Spans kept for export at most (beyond: dropped, counted). */
  maxQueued?: number;
  flushIntervalMs?: number;
  fetch?: typeof fetch;
}

export class Tracer {
  private queue: FinishedSpan[] = [];
  private readonly timer: NodeJS.Timeout;
  private dropped = 0;
  private exporting: Promise<void> | undefined;

  constructor(private readonly options: TracerOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** The tracer the environment asks for, or undefined (tracing off). */
  static fromEnv(env: NodeJS.ProcessEnv, options: Omit<TracerOptions, 'endpoint'>): Tracer | undefined {
    const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
    const endpoint = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
    if (!endpoint || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      options.logger.warn(`tracing off: the OTLP endpoint "${endpoint}" is not an http(s) URL`);
      return undefined;
    }
    return new Tracer({ ...options, endpoint });
  }

  get droppedSpans(): number {
    return this.dropped;
  }

  /** A server span for one request, the child of `parent` when the caller sent one. */
  startSpan(name: string, parent: SpanContext | undefined): Span {
    const context: SpanContext = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      flags: parent?.flags ?? '01',
    };
    const start = process.hrtime.bigint();
    const startWall = BigInt(Date.now()) * 1_000_000n;
    const attributes: FinishedSpan['attributes'] = [];
    let ended = false;
    return {
      context,
      traceparent: formatTraceparent(context),
      setAttribute: (key, value) => attributes.push({ key, value: anyValue(value) }),
      end: (error) => {
        if (ended) return;
        ended = true;
        const end = startWall + (process.hrtime.bigint() - start);
        this.record({
          traceId: context.traceId,
          spanId: context.spanId,
          ...(parent && { parentSpanId: parent.spanId }),
          name,
          kind: 2, // SERVER
          startTimeUnixNano: startWall.toString(),
          endTimeUnixNano: end.toString(),
          attributes,
          status: error === undefined ? { code: 1 } : { code: 2, message: error.slice(0, 512) },
        });
      },
    };
  }

  /** Export what is queued (also what close() waits for). */
  async flush(): Promise<void> {
    if (this.exporting) return this.exporting;
    if (this.queue.length === 0) return;
    const spans = this.queue;
    this.queue = [];
    this.exporting = this.post(spans).finally(() => (this.exporting = undefined));
    return this.exporting;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private record(span: FinishedSpan): void {
    if (this.queue.length >= (this.options.maxQueued ?? 2_048)) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= 512) void this.flush();
  }

  private async post(spans: FinishedSpan[]): Promise<void> {
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: this.options.serviceName } },
              { key: 'service.version', value: { stringValue: this.options.serviceVersion } },
            ],
          },
          scopeSpans: [{ scope: { name: 'mcp-coordinator' }, spans }],
        },
      ],
    };
    try {
      const response = await (this.options.fetch ?? fetch)(this.options.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      this.dropped += spans.length;
      this.options.logger.debug('spans not exported', { count: spans.length, error });
    }
  }
}

function anyValue(value: string | number | boolean): Record<string, unknown> {
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { stringValue: value };
}
