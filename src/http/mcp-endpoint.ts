/**
 * `/mcp`: MCP Streamable HTTP for both eras on one core. Modern (2026-07-28) requests are served
 * statelessly by the SDK's `createMcpHandler` (a session per request, bound to the caller, so any
 * instance can serve any request); legacy clients get a session of their own behind
 * `Mcp-Session-Id` (the SDK's sessionful web-standard transport), owned by the caller that opened
 * it, expired when idle, capped in number. List changes and resource updates reach modern listen
 * streams through the handler's notifier; legacy sessions get them as notifications.
 */
import { randomUUID } from 'node:crypto';
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type Implementation,
  type JSONRPCMessage,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import type { App } from '../app.js';
import type { UpstreamSession } from '../server/session.js';
import type { Logger } from '../shared/logger.js';
import { refuseParamHeaderMismatch } from './param-headers.js';

/** Who sends a request, as the face's guards established it. */
export interface HttpCaller {
  /** Binds requestState and parked exchanges; owns legacy sessions. */
  key: string;
  /** The agent this caller acts as (its key's or token's); absent: derived from the client. */
  agentId?: string;
  /** The peer address (names anonymous modern clients). */
  remoteAddress: string;
}

export interface McpEndpointOptions {
  app: App;
  logger: Logger;
  maxSessions: number;
  sessionIdleMs: number;
  maxBodyBytes: number;
}

interface LegacyEntry {
  transport: WebStandardStreamableHTTPServerTransport;
  session: UpstreamSession;
  owner: string;
  lastSeen: number;
  /** Requests (and GET streams) of this session being answered now. */
  open: number;
}

const CALLER = Symbol('mcp-coordinator caller');
/** Listen streams one caller may hold open at once (the handler's limit is for everyone). */
const MAX_LISTENS_PER_CALLER = 100;
type CallerAuth = AuthInfo & { [CALLER]?: HttpCaller };

export class McpEndpoint {
  readonly modern: McpHttpHandler;
  private readonly legacy = new Map<string, LegacyEntry>();
  /** Open listen streams per caller. */
  private readonly listens = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly unwatch: () => void;
  private closing = false;

  constructor(private readonly options: McpEndpointOptions) {
    const { app, logger } = options;
    this.modern = createMcpHandler(
      ({ era, authInfo }) => {
        const caller = (authInfo as CallerAuth | undefined)?.[CALLER];
        return app.newSession(era, { ...binding(caller, era), ephemeral: true }).server;
      },
      {
        legacy: 'reject',
        maxRequestBodySize: options.maxBodyBytes,
        maxSubscriptions: Math.max(1_024, options.maxSessions),
        onerror: (error) => logger.debug('mcp http', { error: error.message }),
      },
    );
    const onChanged = (changes: { tools?: boolean; prompts?: boolean; resources?: boolean }) => {
      const { notify } = this.modern;
      if (changes.tools) void notify.toolsChanged();
      if (changes.prompts) void notify.promptsChanged();
      if (changes.resources) void notify.resourcesChanged();
    };
    app.state.on('changed', onChanged);
    this.unwatch = () => app.state.off('changed', onChanged);
    const every = Math.min(60_000, Math.max(1_000, Math.floor(options.sessionIdleMs / 4)));
    this.sweeper = setInterval(() => this.expireIdle(), every);
    this.sweeper.unref();
  }

  get sessionCount(): number {
    return this.legacy.size;
  }

  /** One `/mcp` request; its body already read, size-checked and parsed by the face. */
  async handle(request: Request, body: ParsedBody, caller: HttpCaller): Promise<Response> {
    const parsed = body.kind === 'json' ? body.value : undefined;
    const authInfo: CallerAuth = { token: '', clientId: caller.key, scopes: [], [CALLER]: caller };
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) return this.toSession(sessionId, request, body, caller, authInfo);
    if (request.method === 'POST' && parsed !== undefined && (await isLegacyRequest(request, parsed))) {
      if (!isInitializeRequest(parsed)) {
        return rpcError(
          400,
          -32000,
          'Bad Request: Mcp-Session-Id header is required (send initialize first)',
        );
      }
      return this.open(request, parsed, caller, authInfo);
    }
    if (request.method === 'POST' && methodsOf(parsed).includes('subscriptions/listen')) {
      return this.listen(request, parsed as JSONRPCMessage, caller, authInfo);
    }
    // SEP-2243: the SDK checks Mcp-Param-* headers only for its own McpServer's tools.
    const refused = refuseParamHeaderMismatch(this.options.app.state.current, parsed, request.headers);
    if (refused) return refused;
    // What the face could not read is never handed on: the SDK, reading it its own way, could
    // see a method the face's scope check did not.
    if (body.kind === 'invalid') return rpcError(400, -32700, 'Parse error: the body is not JSON');
    return this.modern.fetch(request, { authInfo, ...(parsed !== undefined && { parsedBody: parsed }) });
  }

  /** Shutdown: no new sessions; every stream and session closed. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    this.unwatch();
    await Promise.allSettled([...this.legacy.values()].map((e) => e.transport.close()));
    this.legacy.clear();
    await this.modern.close();
  }

  private async open(
    request: Request,
    parsed: unknown,
    caller: HttpCaller,
    authInfo: AuthInfo,
  ): Promise<Response> {
    if (this.closing) return rpcError(503, -32000, 'the coordinator is shutting down');
    // One caller cannot take every session: a tenth of them at most (at least 10).
    const perCaller = Math.min(
      this.options.maxSessions,
      Math.max(10, Math.ceil(this.options.maxSessions / 10)),
    );
    if (perCaller < this.options.maxSessions && this.owned(caller.key) >= perCaller) {
      this.expireIdle();
      if (this.owned(caller.key) >= perCaller) {
        return rpcError(503, -32000, `too many sessions for this caller (${perCaller}; close some first)`, {
          'retry-after': '5',
        });
      }
    }
    if (this.legacy.size >= this.options.maxSessions) {
      this.expireIdle();
      if (this.legacy.size >= this.options.maxSessions) {
        return rpcError(503, -32000, `too many sessions (http.maxSessions = ${this.options.maxSessions})`, {
          'retry-after': '5',
        });
      }
    }
    const session = this.options.app.newSession('legacy', binding(caller, 'legacy'));
    let entry: LegacyEntry | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      // `<tag>.<uuid>`: the tag names this instance, so another one can forward the session here.
      sessionIdGenerator: () => `${this.options.app.instanceTag}.${randomUUID()}`,
      onsessioninitialized: (id) => {
        entry = { transport, session, owner: caller.key, lastSeen: Date.now(), open: 0 };
        this.legacy.set(id, entry);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.legacy.delete(transport.sessionId);
    };
    await session.server.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody: parsed, authInfo });
    if (!entry) await transport.close(); // initialize refused: no session was made
    return response;
  }

  private async toSession(
    id: string,
    request: Request,
    body: ParsedBody,
    caller: HttpCaller,
    authInfo: AuthInfo,
  ): Promise<Response> {
    const entry = this.legacy.get(id);
    // Another caller's session is as unknown to this one as a made-up id.
    if (!entry || entry.owner !== caller.key || this.expire(id, entry)) {
      return rpcError(404, -32001, 'Session not found (expired, closed or never opened): initialize again');
    }
    if (body.kind === 'invalid') return rpcError(400, -32700, 'Parse error: the body is not JSON');
    entry.lastSeen = Date.now();
    entry.open++;
    try {
      const response = await entry.transport.handleRequest(request, {
        authInfo,
        ...(body.kind === 'json' && { parsedBody: body.value }),
      });
      return holdWhileStreaming(response, () => {
        entry.open--;
        entry.lastSeen = Date.now();
      });
    } catch (error) {
      entry.open--;
      throw error;
    }
  }

  /**
   * A modern listen: the handler serves the stream; the resources it names are watched downstream
   * (by a session of its own) for as long as the stream is open.
   */
  private async listen(
    request: Request,
    message: JSONRPCMessage,
    caller: HttpCaller,
    authInfo: AuthInfo,
  ): Promise<Response> {
    const open = this.listens.get(caller.key) ?? 0;
    if (open >= MAX_LISTENS_PER_CALLER) {
      return rpcError(
        429,
        -32000,
        `too many open listen streams for this caller (${MAX_LISTENS_PER_CALLER})`,
        {
          'retry-after': '5',
        },
      );
    }
    const response = await this.modern.fetch(request, { authInfo, parsedBody: message });
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream'))
      return response;
    this.listens.set(caller.key, open + 1);
    const watcher = this.options.app.newSession('modern', { ...binding(caller, 'modern'), ephemeral: true });
    watcher.resourceUpdated = (uri) => void this.modern.notify.resourceUpdated(uri);
    watcher.onIncoming?.(message);
    return holdWhileStreaming(response, () => {
      watcher.end();
      const left = (this.listens.get(caller.key) ?? 1) - 1;
      if (left > 0) this.listens.set(caller.key, left);
      else this.listens.delete(caller.key);
    });
  }

  /** Legacy sessions `key` holds. */
  private owned(key: string): number {
    let n = 0;
    for (const entry of this.legacy.values()) if (entry.owner === key) n++;
    return n;
  }

  private expireIdle(): void {
    for (const [id, entry] of this.legacy) this.expire(id, entry);
  }

  /** Ends the session if it has been idle for longer than allowed; true when it did. */
  private expire(id: string, entry: LegacyEntry): boolean {
    if (entry.open > 0 || Date.now() - entry.lastSeen <= this.options.sessionIdleMs) return false;
    this.legacy.delete(id);
    this.options.logger.debug('legacy session expired', { session: id });
    void entry.transport.close().catch(() => {});
    return true;
  }
}

/** The agent a client of this caller acts as. */
function binding(caller: HttpCaller | undefined, era: 'legacy' | 'modern') {
  if (!caller) return {};
  const fixed = caller.agentId;
  // Only a legacy session names itself apart (a modern request is not a client of its own).
  const suffix = era === 'legacy' && !fixed ? randomUUID().slice(0, 6) : '';
  return {
    caller: caller.key,
    agentIdFor: (info: Implementation | undefined) => {
      if (fixed) return fixed;
      const name = info?.name ?? 'client';
      // Without credentials: the client's name and where it is; a legacy session is one client
      // of its own (two IDE windows on one machine are two agents).
      return era === 'modern'
        ? `${name}@${caller.remoteAddress}`
        : `${name}@${caller.remoteAddress}#${suffix}`;
    },
  };
}

/** A request body as the face read it. */
export type ParsedBody = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'invalid' };

export function parseBody(body: Buffer | undefined): ParsedBody {
  if (!body || body.length === 0) return { kind: 'none' };
  // A UTF-8 byte-order mark is what JSON.parse refuses and fetch's Request.text() drops.
  const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  try {
    return { kind: 'json', value: JSON.parse(body.toString('utf8', start)) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

/** The JSON-RPC methods a body carries (a batch has several). */
export function methodsOf(value: unknown): string[] {
  const one = (m: unknown) =>
    typeof m === 'object' && m !== null && typeof (m as { method?: unknown }).method === 'string'
      ? [(m as { method: string }).method]
      : [];
  return Array.isArray(value) ? value.flatMap(one) : one(value);
}

/** A JSON-RPC error as MCP clients expect it on `/mcp` (they read the body, not only the status). */
function rpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}

/** Runs `done` once the response body has been read to its end or abandoned. */
function holdWhileStreaming(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
