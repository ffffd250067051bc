/**
 * `connect`: one stdio client (an IDE) bridged to a Streamable HTTP MCP endpoint, message by
 * message, through the SDK's transports on both sides — no framing of our own.
 *
 * Two HTTP transports, one per era: a legacy client's messages go through a sessionful one
 * (`initialize` sets its Mcp-Session-Id, and the negotiated version is handed to it, as the SDK's
 * Client would), a modern client's enveloped requests through a stateless one (the transport
 * derives Mcp-Protocol-Version and Mcp-Method from each request's `_meta` envelope). An `auto`
 * client that probes with `server/discover` and falls back to `initialize` uses both.
 *
 * When the endpoint goes away, a request that cannot have reached it (connection refused) is
 * sent again with backoff until it answers; a legacy session the server no longer knows (404) is
 * re-opened by replaying the client's own `initialize` (legacy-session.ts). A request that may
 * have reached it gets an error saying so, unless it is one that can safely run twice.
 */
import pRetry from 'p-retry';
import {
  PROTOCOL_VERSION_META_KEY,
  StreamableHTTPClientTransport,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type FetchLike,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/client';
import { MAX_REQUEST_BYTES } from '../shared/json-lines.js';
import { boundedFetch } from '../shared/bounded-fetch.js';
import { BridgeFailure, Retry, classify, type Failure } from './failures.js';
import { LegacySession, type Answer } from './legacy-session.js';
import { Link } from './link.js';

type Era = 'legacy' | 'modern';

export const BRIDGE_DEFAULTS = {
  /** Requests from the client awaiting an answer; past it a request is refused at once. */
  maxPending: 1024,
  /** Largest message read from the server (one SSE event or JSON body). */
  maxMessageBytes: MAX_REQUEST_BYTES,
  /** Backoff between attempts to reach an unreachable endpoint. */
  retryMinMs: 100,
  retryMaxMs: 2_000,
  /** Longest pause between attempts to restore an idle legacy session's event stream. */
  healMaxMs: 5_000,
  /** How long one request keeps trying before it is answered with an error. */
  retryForMs: 120_000,
  /** A request that may have run is sent again only if harmless, and at most this often. */
  maxResends: 2,
  /** Longest wait for the answer to a replayed `initialize`. */
  reopenTimeoutMs: 30_000,
  /** Longest wait for the session's DELETE when the client leaves. */
  closeTimeoutMs: 2_000,
};
export type BridgeLimits = typeof BRIDGE_DEFAULTS;

export interface BridgeOptions {
  url: URL;
  /** Sent on every HTTP request (Authorization, --header). */
  headers: Record<string, string>;
  /** The client's side: a stdio server transport. */
  client: Transport;
  /** A line for the person running the IDE (stderr). */
  say(line: string): void;
  debug?(line: string): void;
  limits?: Partial<BridgeLimits>;
  fetch?: FetchLike;
}

/** Requests that may run twice without harm: resent after a connection lost mid-way. */
const SAFE_TO_RESEND: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
]);

/** The first 2026-era revision; revisions are dates, so they compare as strings. */
const FIRST_MODERN_VERSION = '2026-07-28';
/** JSON-RPC server-error code for what went wrong between the bridge and the endpoint. */
const BRIDGE_ERROR = -32000;

interface Pending {
  readonly request: JSONRPCRequest;
  readonly era: Era;
  /** Aborted when the client cancels or leaves: ends the retries and a modern request's stream. */
  readonly cancel: AbortController;
  /** Which send this is: a stream end from an earlier one is not this one's. */
  attempt: number;
  resends: number;
}

export class HttpBridge {
  private readonly limits: BridgeLimits;
  private readonly link: Link;
  private readonly legacy: LegacySession;
  private readonly transports: Record<Era, StreamableHTTPClientTransport>;
  private readonly pending = new Map<RequestId, Pending>();
  private closed = false;

  constructor(private readonly options: BridgeOptions) {
    this.limits = { ...BRIDGE_DEFAULTS, ...options.limits };
    this.link = new Link(options.url.href, options.say);
    const fetch = boundedFetch(
      this.limits.maxMessageBytes,
      (error) => options.say(`connect: ${error.message}`),
      options.fetch,
    );
    const requestInit = { headers: options.headers };
    this.legacy = new LegacySession({
      url: options.url,
      requestInit,
      fetch,
      link: this.link,
      limits: this.limits,
      say: options.say,
      debug: options.debug,
      onmessage: (message) => this.onServerMessage(message),
    });
    this.transports = {
      legacy: this.legacy.transport,
      modern: new StreamableHTTPClientTransport(options.url, { requestInit, fetch }),
    };
  }

  async start(): Promise<void> {
    await this.legacy.start();
    const modern = this.transports.modern;
    modern.onmessage = (message) => this.onServerMessage(message);
    modern.onerror = (error) => this.options.debug?.(`modern transport: ${error.message}`);
    await modern.start();
    const { client } = this.options;
    client.onmessage = (message) => this.onClientMessage(message);
    client.onerror = (error) => this.options.debug?.(`stdio: ${error.message}`);
    await client.start();
  }

  /** The client left: end the legacy session (DELETE) and both sides. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link.close();
    for (const p of this.pending.values()) p.cancel.abort();
    this.pending.clear();
    await Promise.allSettled([
      this.legacy.close(),
      this.transports.modern.close(),
      this.options.client.close(),
    ]);
  }

  private get url(): string {
    return this.options.url.href;
  }

  // ---- client → server

  private onClientMessage(message: JSONRPCMessage): void {
    if (this.closed) return;
    if (isJSONRPCRequest(message)) this.onRequest(message);
    else if (isJSONRPCNotification(message)) void this.onNotification(message);
    // The client's answer to a server→client request: those come from legacy sessions only
    // (a modern server asks through input_required, inside a result).
    else void this.post(this.transports.legacy, message);
  }

  private onRequest(request: JSONRPCRequest): void {
    if (this.pending.has(request.id)) {
      this.reply(
        request.id,
        -32600,
        `connect: request id ${JSON.stringify(request.id)} is already in flight`,
      );
      return;
    }
    if (this.pending.size >= this.limits.maxPending) {
      this.reply(
        request.id,
        BRIDGE_ERROR,
        `connect: ${this.pending.size} requests already in flight; try again`,
      );
      return;
    }
    const era = eraOf(request);
    if (era === 'legacy' && request.method === 'initialize') this.legacy.opening(request);
    const p: Pending = { request, era, cancel: new AbortController(), attempt: 0, resends: 0 };
    this.pending.set(request.id, p);
    void this.deliver(p);
  }

  private async onNotification(notification: JSONRPCNotification): Promise<void> {
    if (notification.method === 'notifications/cancelled') {
      const id = (notification.params as { requestId?: RequestId } | undefined)?.requestId;
      const p = id === undefined ? undefined : this.pending.get(id);
      if (p) {
        this.pending.delete(p.request.id);
        p.cancel.abort();
        // A modern request is cancelled by closing its stream (the abort above), not by a message.
        if (p.era === 'modern') return;
      }
    }
    if (notification.method === 'notifications/initialized') this.legacy.initialized();
    // Without an initialize there is no legacy session for it to belong to.
    if (eraOf(notification) === 'modern' || !this.legacy.opened) {
      return this.post(this.transports.modern, notification);
    }
    // After a restart, notifications/initialized is part of the re-opening; others wait for it.
    if (this.legacy.isLost && notification.method === 'notifications/initialized') return;
    await this.legacy.ready().catch(() => {});
    return this.post(this.transports.legacy, notification);
  }

  /** A notification or an answer: sent once; a failure is only worth a debug line. */
  private async post(transport: StreamableHTTPClientTransport, message: JSONRPCMessage): Promise<void> {
    try {
      await transport.send(message);
    } catch (error) {
      this.options.debug?.(`could not pass a message on: ${classify(error, false).message}`);
    }
  }

  private async deliver(p: Pending): Promise<void> {
    try {
      await pRetry(() => this.sendOnce(p), {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: this.limits.retryMinMs,
        maxTimeout: this.limits.retryMaxMs,
        randomize: true,
        maxRetryTime: this.limits.retryForMs,
        signal: p.cancel.signal,
        unref: true,
        shouldRetry: ({ error }) => error instanceof Retry,
      });
    } catch (error) {
      if (p.cancel.signal.aborted) return;
      this.fail(p, error);
    }
  }

  private async sendOnce(p: Pending): Promise<void> {
    if (this.pending.get(p.request.id) !== p) return;
    const transport = this.transports[p.era];
    if (p.era === 'legacy' && p.request.method !== 'initialize') await this.legacy.ready();
    const hadSession = p.era === 'legacy' && transport.sessionId !== undefined;
    const generation = this.legacy.current;
    const attempt = ++p.attempt;
    try {
      await transport.send(p.request, {
        ...(p.era === 'modern' && { requestSignal: p.cancel.signal }),
        onRequestStreamEnd: () => this.onStreamEnd(p, attempt),
      });
    } catch (error) {
      if (p.cancel.signal.aborted) throw error;
      const failure = classify(error, hadSession);
      if (failure.kind === 'unreachable') {
        this.link.unreachable();
        throw new Retry(failure.message);
      }
      if (failure.kind === 'session-gone' && p.request.method !== 'initialize') {
        this.legacy.gone(generation);
        throw new Retry(failure.message);
      }
      if (failure.kind === 'lost' && this.mayResend(p)) throw new Retry(failure.message);
      throw new BridgeFailure(failure);
    }
    this.link.reached();
  }

  private mayResend(p: Pending): boolean {
    return SAFE_TO_RESEND.has(p.request.method) && p.resends++ < this.limits.maxResends;
  }

  /** A request's response stream ended: if no answer came on it, the answer is not coming. */
  private onStreamEnd(p: Pending, attempt: number): void {
    if (this.closed || this.pending.get(p.request.id) !== p || p.attempt !== attempt) return;
    if (this.mayResend(p)) {
      void this.deliver(p);
      return;
    }
    this.fail(
      p,
      new BridgeFailure({
        kind: 'lost',
        message: `the connection to ${this.url} ended before the answer came`,
      }),
    );
  }

  // ---- server → client

  private onServerMessage(message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const answer = message as Answer;
      const id = answer.id;
      const p = this.pending.get(id);
      // An answer to nothing pending (cancelled, already failed) would be a second answer.
      if (!p) return this.options.debug?.(`dropped an answer to ${JSON.stringify(id)}: nothing pending`);
      this.pending.delete(id);
      // What the SDK's Client does after its handshake: later requests carry the version.
      if (p.request.method === 'initialize' && p.era === 'legacy') this.legacy.handshakeAnswered(answer);
    }
    this.toClient(message);
  }

  private fail(p: Pending, error: unknown): void {
    if (this.pending.get(p.request.id) !== p) return;
    this.pending.delete(p.request.id);
    const failure: Failure =
      error instanceof BridgeFailure
        ? error.failure
        : error instanceof Retry
          ? { kind: 'unreachable', message: error.message }
          : { kind: 'lost', message: error instanceof Error ? error.message : String(error) };
    const { method } = p.request;
    const status = 'status' in failure ? failure.status : undefined;
    let message: string;
    switch (failure.kind) {
      case 'auth':
        message = `${this.url} refused ${method} (HTTP ${failure.status}): ${failure.message}`;
        this.options.say(`connect: ${message}`);
        break;
      case 'unreachable':
        message = `coordinator at ${this.url} unreachable for ${Math.round(this.limits.retryForMs / 1000)} s: ${failure.message}`;
        break;
      case 'lost':
        message = `${method} may or may not have run: ${failure.message}`;
        break;
      default:
        message = `${method} failed at ${this.url}: ${status !== undefined ? `HTTP ${status}: ` : ''}${failure.message}`;
    }
    const data = { url: this.url, reason: failure.kind, ...(status !== undefined && { status }) };
    this.reply(p.request.id, BRIDGE_ERROR, `connect: ${message}`, data);
  }

  private reply(id: RequestId, code: number, message: string, data?: unknown): void {
    this.toClient({ jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined && { data }) } });
  }

  private toClient(message: JSONRPCMessage): void {
    this.options.client
      .send(message)
      .catch((error: Error) => this.options.debug?.(`stdout: ${error.message}`));
  }
}

function eraOf(message: JSONRPCRequest | JSONRPCNotification): Era {
  const meta = (message.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const version = meta?.[PROTOCOL_VERSION_META_KEY];
  return typeof version === 'string' && version >= FIRST_MODERN_VERSION ? 'modern' : 'legacy';
}
