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
 * re-opened by replaying the client's own `initialize` (its answer swallowed) and
 * `notifications/initialized`. A request that may have reached it gets an error saying so,
 * unless it is one that can safely run twice.
 */
import { setTimeout as delay } from 'node:timers/promises';
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
import { boundedFetch, watchedGetFetch } from './bounded-fetch.js';
import { classify, type Failure } from './failures.js';

type Era = 'legacy' | 'modern';
type Answer = Extract<JSONRPCMessage, { id: RequestId }> & ({ result: unknown } | { error: unknown });

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
/** Ids of the bridge's own requests (a replayed initialize, a ping), whose answers it keeps. */
const INTERNAL_ID_PREFIX = 'mcp-coordinator-connect-';
/** An event stream that ends sooner than this after opening counts as cut short. */
const SHORT_STREAM_MS = 2_000;
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

/** Try again: the request has not reached the server. */
class Retry extends Error {}

class BridgeFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

export class HttpBridge {
  private readonly limits: BridgeLimits;
  private readonly transports: Record<Era, StreamableHTTPClientTransport>;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly internal = new Map<RequestId, (answer: Answer) => void>();
  private status: 'connected' | 'unreachable' = 'connected';
  private closed = false;
  /** The client's own `initialize`, replayed when the session must be opened again. */
  private initialize?: JSONRPCRequest;
  private clientInitialized = false;
  /** Bumped when the legacy session is found gone: later 404s of older sends are not news. */
  private generation = 0;
  private sessionLost = false;
  private reopening?: Promise<void>;
  private healing?: Promise<void>;
  private streamOpenedAt = 0;
  /** Event streams in a row that ended soon after opening: each waits longer before the next. */
  private shortStreams = 0;
  private internalIds = 0;
  private readonly closing = new AbortController();

  constructor(private readonly options: BridgeOptions) {
    this.limits = { ...BRIDGE_DEFAULTS, ...options.limits };
    const fetch = boundedFetch(
      this.limits.maxMessageBytes,
      (error) => options.say(`connect: ${error.message}`),
      options.fetch,
    );
    const requestInit = { headers: options.headers };
    this.transports = {
      // The legacy session's standalone event stream is watched and restored by the bridge (heal),
      // which knows how to re-open the session; the transport's own reconnection is off here, as
      // it would only retry the old session id. (So a legacy request's stream is not resumed
      // either: a request lost with it is resent if harmless, else answered with an error.)
      legacy: new StreamableHTTPClientTransport(options.url, {
        requestInit,
        fetch: watchedGetFetch(fetch, {
          open: () => (this.streamOpenedAt = Date.now()),
          end: () => this.onStandaloneEnd(),
        }),
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 1_000,
          maxReconnectionDelay: 30_000,
          reconnectionDelayGrowFactor: 1.5,
        },
      }),
      modern: new StreamableHTTPClientTransport(options.url, { requestInit, fetch }),
    };
  }

  async start(): Promise<void> {
    for (const [era, transport] of Object.entries(this.transports)) {
      transport.onmessage = (message) => this.onServerMessage(message);
      transport.onerror = (error) => this.options.debug?.(`${era} transport: ${error.message}`);
      await transport.start();
    }
    const { client } = this.options;
    client.onmessage = (message) => this.onClientMessage(message);
    client.onerror = (error) => this.options.debug?.(`stdio: ${error.message}`);
    await client.start();
  }

  /** The client left: end the legacy session (DELETE) and both sides. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const p of this.pending.values()) p.cancel.abort();
    this.pending.clear();
    const legacy = this.transports.legacy;
    if (legacy.sessionId !== undefined) {
      await Promise.race([
        legacy.terminateSession().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, this.limits.closeTimeoutMs).unref()),
      ]);
    }
    await Promise.allSettled([legacy.close(), this.transports.modern.close(), this.options.client.close()]);
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
    if (era === 'legacy' && request.method === 'initialize') this.initialize = request;
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
    if (notification.method === 'notifications/initialized') this.clientInitialized = true;
    // Without an initialize there is no legacy session for it to belong to.
    if (eraOf(notification) === 'modern' || this.initialize === undefined) {
      return this.post(this.transports.modern, notification);
    }
    // After a restart, notifications/initialized is part of the re-opening; others wait for it.
    if (this.sessionLost && notification.method === 'notifications/initialized') return;
    await this.legacySession().catch(() => {});
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
    if (p.era === 'legacy' && p.request.method !== 'initialize') await this.legacySession();
    const hadSession = p.era === 'legacy' && transport.sessionId !== undefined;
    const generation = this.generation;
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
        this.setUnreachable();
        throw new Retry(failure.message);
      }
      if (failure.kind === 'session-gone' && p.request.method !== 'initialize') {
        this.sessionGone(generation);
        throw new Retry(failure.message);
      }
      if (failure.kind === 'lost' && this.mayResend(p)) throw new Retry(failure.message);
      throw new BridgeFailure(failure);
    }
    this.setConnected();
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

  // ---- the legacy session

  private sessionGone(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.sessionLost = true;
    this.options.say(`connect: ${this.url} no longer knows this session; opening a new one`);
  }

  /** Resolves once the legacy session is usable (re-opened if it was lost). */
  private async legacySession(): Promise<void> {
    while (this.sessionLost && !this.closed) {
      this.reopening ??= this.reopen().finally(() => (this.reopening = undefined));
      await this.reopening;
    }
  }

  private async reopen(): Promise<void> {
    const init = this.initialize;
    if (!init) {
      throw new BridgeFailure({
        kind: 'http',
        status: 404,
        message: `${this.url} no longer knows the session and the client never sent initialize`,
      });
    }
    const legacy = this.transports.legacy;
    let response: Answer;
    try {
      response = await this.internalRequest(init);
    } catch (error) {
      if (error instanceof BridgeFailure) throw error;
      const failure = classify(error, false);
      if (failure.kind === 'unreachable') {
        this.setUnreachable();
        throw new Retry(failure.message);
      }
      throw new BridgeFailure({ ...failure, message: `re-opening the session: ${failure.message}` });
    }
    if ('error' in response) {
      const error = response.error as { message?: string };
      throw new BridgeFailure({ kind: 'http', message: `re-opening the session: ${error.message}` });
    }
    const version = (response.result as { protocolVersion?: unknown }).protocolVersion;
    if (typeof version === 'string') legacy.setProtocolVersion(version);
    if (this.clientInitialized)
      await this.post(legacy, { jsonrpc: '2.0', method: 'notifications/initialized' });
    this.sessionLost = false;
    this.status = 'connected';
    this.options.say(`connect: reconnected to ${this.url}`);
  }

  /**
   * The legacy session's standalone event stream ended (the server went away, or closed it):
   * find out which and get a stream again, re-opening the session if the server lost it, even
   * while the client sends nothing (it may be waiting for notifications).
   */
  private onStandaloneEnd(): void {
    if (this.closed) return;
    this.options.debug?.("the legacy session's event stream ended");
    // A server that ends every stream at once must not get a ping and a new stream in a loop.
    const short = Date.now() - this.streamOpenedAt < SHORT_STREAM_MS;
    this.shortStreams = short ? this.shortStreams + 1 : 0;
    const pause = short ? Math.min(this.limits.healMaxMs, 250 * 2 ** this.shortStreams) : 0;
    this.healing ??= this.heal(pause).finally(() => (this.healing = undefined));
  }

  private async heal(pauseMs: number): Promise<void> {
    const generation = this.generation;
    try {
      if (pauseMs > 0) await delay(pauseMs, undefined, { signal: this.closing.signal, ref: false });
      await pRetry(
        async () => {
          if (this.closed) return;
          await this.legacySession();
          // Re-opened meanwhile: its notifications/initialized opened a new stream.
          if (this.generation !== generation) return;
          try {
            await this.internalRequest({ jsonrpc: '2.0', id: 0, method: 'ping' });
          } catch (error) {
            const failure = error instanceof BridgeFailure ? error.failure : classify(error, true);
            if (failure.kind === 'unreachable') {
              this.setUnreachable();
              throw new Retry(failure.message);
            }
            if (failure.kind === 'session-gone') {
              this.sessionGone(generation);
              throw new Retry(failure.message);
            }
            // A ping may run twice; a connection caught closing, or a proxy's 5xx while the
            // server restarts, is worth another try.
            if (failure.kind === 'lost' || (failure.kind === 'http' && (failure.status ?? 0) >= 500)) {
              throw new Retry(failure.message);
            }
            throw new BridgeFailure(failure);
          }
          this.setConnected();
          // The server still knows the session; only the stream was lost. The transport opens
          // it again when a notifications/initialized is accepted.
          await this.post(this.transports.legacy, { jsonrpc: '2.0', method: 'notifications/initialized' });
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: this.limits.retryMinMs,
          maxTimeout: this.limits.healMaxMs,
          randomize: true,
          signal: this.closing.signal,
          unref: true,
          shouldRetry: ({ error }) => error instanceof Retry,
        },
      );
    } catch (error) {
      if (this.closed) return;
      const why = error instanceof Error ? error.message : String(error);
      this.options.say(`connect: could not restore the session's event stream from ${this.url}: ${why}`);
    }
  }

  /** A request of the bridge's own on the legacy session (its id replaced); the answer is kept. */
  private async internalRequest(request: JSONRPCRequest): Promise<Answer> {
    const id = `${INTERNAL_ID_PREFIX}${++this.internalIds}`;
    const answer = this.awaitInternal(id);
    try {
      await this.transports.legacy.send({ ...request, id });
    } catch (error) {
      answer.cancel();
      throw error;
    }
    return answer.promise;
  }

  /** The answer to a request the bridge itself sent: never shown to the client. */
  private awaitInternal(id: RequestId): { promise: Promise<Answer>; cancel(): void } {
    let cancel = () => {};
    const promise = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(
          new BridgeFailure({ kind: 'lost', message: `re-opening the session: no answer from ${this.url}` }),
        );
      }, this.limits.reopenTimeoutMs);
      timer.unref();
      this.internal.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      cancel = () => {
        clearTimeout(timer);
        this.internal.delete(id);
      };
    });
    return { promise, cancel };
  }

  private setUnreachable(): void {
    if (this.status === 'unreachable' || this.closed) return;
    this.status = 'unreachable';
    this.options.say(`connect: coordinator at ${this.url} unreachable, retrying…`);
  }

  private setConnected(): void {
    if (this.status === 'connected') return;
    this.status = 'connected';
    this.options.say(`connect: reconnected to ${this.url}`);
  }

  // ---- server → client

  private onServerMessage(message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const answer = message as Answer;
      const id = answer.id;
      const internal = this.internal.get(id);
      if (internal) {
        this.internal.delete(id);
        internal(answer);
        return;
      }
      const p = this.pending.get(id);
      // An answer to nothing pending (cancelled, already failed) would be a second answer.
      if (!p) return this.options.debug?.(`dropped an answer to ${JSON.stringify(id)}: nothing pending`);
      this.pending.delete(id);
      if (p.request.method === 'initialize' && p.era === 'legacy' && 'result' in answer) {
        const version = (answer.result as { protocolVersion?: unknown }).protocolVersion;
        // What the SDK's Client does after its handshake: later requests carry the header.
        if (typeof version === 'string') this.transports.legacy.setProtocolVersion(version);
      }
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
