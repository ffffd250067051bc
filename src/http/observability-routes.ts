/**
 * The observability routes the HTTP face mounts: `/metrics`, `/api/logs`, `/api/logs/sources`,
 * `/api/logs/stream` (SSE) and `/api/events/stream` (SSE). Each is a plain
 * `(req, res, url) => Promise<void>`; authentication, Host/Origin checks and the request counter
 * are the server's. A stream handler resolves once the stream is open (headers, replay and the
 * buffered items written), not when it ends.
 *
 * Bad query values are 400 `{ "error": { "code": "bad_request", "message" } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';
import type { Config } from '../config/schema.js';
import type { RestContext, Route } from './rest.js';
import { compileTypeGlob } from '../coordination/type-glob.js';
import type { CoordinationEvent, EventBus } from '../coordination/types.js';
import {
  isLogLevel,
  logLineMatcher,
  type LogLine,
  type LogLineLevel,
  type LogRing,
} from '../observability/log-ring.js';
import type { Metrics } from '../observability/metrics.js';
import { InvalidArgumentError, bareMessage } from '../shared/errors.js';
import { openSse, type SseStream } from './sse.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface StreamRouteOptions {
  heartbeatMs?: number;
  maxQueued?: number;
  /** Every opened stream (tests; a server that wants to close them all at shutdown). */
  onStream?(stream: SseStream): void;
}

/** Default and largest `limit` of `/api/logs`. */
export const DEFAULT_LOG_LIMIT = 200;

export function metricsHandler(metrics: Metrics): RouteHandler {
  return async (_req, res) => {
    const text = await metrics.text();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  };
}

/** `GET /api/logs[?source=&level=&limit=&since=]` → `{ lines: LogLine[] }`, oldest first. */
export function logsHandler(ring: LogRing): RouteHandler {
  return async (_req, res, url) => {
    const query = parseLogQuery(url, res);
    if (!query) return;
    const limit = parseInteger(url, 'limit', res, 1, ring.maxLines);
    if (limit === null) return;
    const since = parseInteger(url, 'since', res, 0, Number.MAX_SAFE_INTEGER);
    if (since === null) return;
    const lines = ring.query({
      ...query,
      limit: limit ?? DEFAULT_LOG_LIMIT,
      ...(since !== undefined && { since }),
    });
    sendJson(res, 200, { lines });
  };
}

/** `GET /api/logs/sources` → `{ sources: [{ source, count }] }`. */
export function logSourcesHandler(ring: LogRing): RouteHandler {
  return async (_req, res) => sendJson(res, 200, { sources: ring.sources() });
}

/** `GET /api/logs/stream[?source=&level=&since=]` (SSE; `Last-Event-ID` or `since` replays). */
export function logsStreamHandler(ring: LogRing, options: StreamRouteOptions = {}): RouteHandler {
  return async (req, res, url) => {
    const query = parseLogQuery(url, res);
    if (!query) return;
    const lastEventId = lastIdOf(req, url);
    if (lastEventId !== undefined && !/^\d+$/.test(lastEventId)) {
      return badRequest(
        res,
        `since / Last-Event-ID must be a log line id (an integer), got "${lastEventId}"`,
      );
    }
    const matches = logLineMatcher(query);
    await open(req, res, options, {
      lastEventId,
      replay: async (since) => ring.query({ ...query, since: Number(since) }),
      subscribe: (listener) => ring.subscribe((line) => matches(line) && listener(line)),
      idOf: (line: LogLine) => String(line.id),
    });
  };
}

/** `GET /api/events/stream[?type=GLOB&since=]` (SSE; `Last-Event-ID` or `since` replays). */
export function eventsStreamHandler(bus: EventBus, options: StreamRouteOptions = {}): RouteHandler {
  return async (req, res, url) => {
    const type = url.searchParams.get('type') ?? undefined;
    try {
      compileTypeGlob(type);
    } catch (error) {
      return badRequest(res, bareMessage(error));
    }
    await open(req, res, options, {
      lastEventId: lastIdOf(req, url),
      replay: (since) => bus.replay({ since, ...(type !== undefined && { type }) }),
      subscribe: (listener) => bus.subscribe(listener, type),
      idOf: (event: CoordinationEvent) => event.id,
    });
  };
}

async function open<T>(
  req: IncomingMessage,
  res: ServerResponse,
  options: StreamRouteOptions,
  source: Pick<Parameters<typeof openSse<T>>[2], 'lastEventId' | 'replay' | 'subscribe' | 'idOf'>,
): Promise<void> {
  try {
    const stream = await openSse(req, res, {
      ...source,
      ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
      ...(options.maxQueued !== undefined && { maxQueued: options.maxQueued }),
    });
    options.onStream?.(stream);
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    if (error instanceof InvalidArgumentError) return badRequest(res, bareMessage(error));
    sendJson(res, 503, { error: { code: 'unavailable', message: bareMessage(error) } });
  }
}

/** `Last-Event-ID` (an EventSource reconnecting) wins over `?since=` (the first connect). */
function lastIdOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('since') ?? undefined;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseLogQuery(url: URL, res: ServerResponse): { source?: string; level?: LogLineLevel } | undefined {
  const source = url.searchParams.get('source') ?? undefined;
  const level = url.searchParams.get('level') ?? undefined;
  if (level !== undefined && !isLogLevel(level)) {
    badRequest(res, `level must be one of debug, info, warn, error; got "${level}"`);
    return undefined;
  }
  return { ...(source && { source }), ...(level && { level }) };
}

/** undefined when absent, null when bad (the 400 is already sent). */
function parseInteger(
  url: URL,
  name: string,
  res: ServerResponse,
  min: number,
  max: number,
): number | undefined | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    badRequest(res, `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return null;
  }
  return value;
}

function badRequest(res: ServerResponse, message: string): void {
  sendJson(res, 400, { error: { code: 'bad_request', message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The face's routes for the handlers above. */
export function observabilityRoutes(app: App, http: Config['http']): Route[] {
  const mount =
    (handler: RouteHandler) =>
    ({ req, res, url }: RestContext) =>
      handler(req, res, url);
  return [
    {
      method: 'GET',
      path: '/metrics',
      scope: http.metrics.open ? undefined : 'read',
      summary: 'Prometheus text format (open with http.metrics.open)',
      produces: 'text/plain',
      handle: mount(metricsHandler(app.metrics)),
    },
    {
      method: 'GET',
      path: '/api/logs',
      scope: 'read',
      summary: "The coordinator's and every server's recent log lines",
      query: ['source', 'level', 'limit', 'since'],
      handle: mount(logsHandler(app.logs)),
    },
    {
      method: 'GET',
      path: '/api/logs/sources',
      scope: 'read',
      summary: 'The log sources with their line counts',
      handle: mount(logSourcesHandler(app.logs)),
    },
    {
      method: 'GET',
      path: '/api/logs/stream',
      scope: 'read',
      summary: 'Log lines live (SSE; Last-Event-ID or since replays)',
      query: ['source', 'level', 'since'],
      produces: 'text/event-stream',
      handle: mount(logsStreamHandler(app.logs)),
    },
    {
      method: 'GET',
      path: '/api/events/stream',
      scope: 'read',
      summary: 'Coordination events live (SSE; Last-Event-ID or since replays)',
      query: ['type', 'since'],
      produces: 'text/event-stream',
      handle: mount(eventsStreamHandler(app.bus)),
    },
  ];
}
