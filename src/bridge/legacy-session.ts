/**
 * The legacy (2025-era) side of `connect`: one sessionful Streamable HTTP transport, and what it
 * takes to keep its session alive across a restart of the server.
 *
 * The client's own `initialize` is kept. When the server no longer knows the session (HTTP 404 to
 * a request with its Mcp-Session-Id), it is replayed — its answer kept from the client, which
 * already has one — with `notifications/initialized` after it, and the negotiated version handed
 * to the transport as the SDK's Client would. The session's standalone event stream (GET) is
 * watched: when it ends, a ping finds out whether the server went away, forgot the session, or
 * only closed the stream, and a stream is had again, even while the client sends nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pRetry from 'p-retry';
import {
  StreamableHTTPClientTransport,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type FetchLike,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/client';
import { watchedGetFetch } from '../shared/bounded-fetch.js';
import { BridgeFailure, Retry, classify } from './failures.js';
import type { Link } from './link.js';

export type Answer = Extract<JSONRPCMessage, { id: RequestId }> & ({ result: unknown } | { error: unknown });

export interface LegacySessionLimits {
  retryMinMs: number;
  /** Longest pause between attempts to restore the event stream. */
  healMaxMs: number;
  /** Longest wait for the answer to the bridge's own request (a replayed initialize, a ping). */
  reopenTimeoutMs: number;
  /** Longest wait for the session's DELETE on close. */
  closeTimeoutMs: number;
}

export interface LegacySessionOptions {
  url: URL;
  requestInit: RequestInit;
  fetch: FetchLike;
  link: Link;
  limits: LegacySessionLimits;
  say(line: string): void;
  debug?(line: string): void;
  /** Every server message that is not the answer to one of the session's own requests. */
  onmessage(message: JSONRPCMessage): void;
}

/** Ids of the bridge's own requests, whose answers it keeps. */
const INTERNAL_ID_PREFIX = 'mcp-coordinator-connect-';
/** An event stream that ends sooner than this after opening counts as cut short. */
const SHORT_STREAM_MS = 2_000;

export class LegacySession {
  readonly transport: StreamableHTTPClientTransport;
  /** The client's own `initialize`, replayed when the session must be opened again. */
  private initialize?: JSONRPCRequest;
  private clientInitialized = false;
  /** Bumped when the session is found gone: later 404s of older sends are not news. */
  private generation = 0;
  private lost = false;
  private reopening?: Promise<void>;
  private healing?: Promise<void>;
  private streamOpenedAt = 0;
  /** Event streams in a row that ended soon after opening: each waits longer before the next. */
  private shortStreams = 0;
  private internalIds = 0;
  private readonly internal = new Map<RequestId, (answer: Answer) => void>();
  private readonly closing = new AbortController();

  constructor(private readonly options: LegacySessionOptions) {
    this.transport = new StreamableHTTPClientTransport(options.url, {
      requestInit: options.requestInit,
      fetch: watchedGetFetch(options.fetch, {
        open: () => (this.streamOpenedAt = Date.now()),
        end: () => this.onStreamEnd(),
      }),
      // The event stream is restored here (the transport's own reconnection would only retry
      // the old session id). So a request's stream is not resumed either: the bridge resends a
      // request lost with one if it is harmless, else answers it with an error.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1_000,
        maxReconnectionDelay: 30_000,
        reconnectionDelayGrowFactor: 1.5,
      },
    });
  }

  async start(): Promise<void> {
    this.transport.onmessage = (message) => {
      if (!this.takeAnswer(message)) this.options.onmessage(message);
    };
    this.transport.onerror = (error) => this.options.debug?.(`legacy transport: ${error.message}`);
    await this.transport.start();
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (this.transport.sessionId !== undefined) {
      await Promise.race([
        this.transport.terminateSession().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, this.options.limits.closeTimeoutMs).unref()),
      ]);
    }
    await this.transport.close();
  }

  /** Whether the client opened a legacy session (sent `initialize`). */
  get opened(): boolean {
    return this.initialize !== undefined;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** Which session a send went to: compare with `gone()` when it answers 404. */
  get current(): number {
    return this.generation;
  }

  /** The client's `initialize`, on its way. */
  opening(request: JSONRPCRequest): void {
    this.initialize = request;
  }

  /** The answer to the client's `initialize`: later requests carry the version it names. */
  handshakeAnswered(answer: Answer): void {
    const version =
      'result' in answer ? (answer.result as { protocolVersion?: unknown }).protocolVersion : undefined;
    if (typeof version === 'string') this.transport.setProtocolVersion(version);
  }

  initialized(): void {
    this.clientInitialized = true;
  }

  /** The server answered 404 to a send made in `generation`: the session is gone. */
  gone(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.lost = true;
    this.options.say(`connect: ${this.options.url.href} no longer knows this session; opening a new one`);
  }

  /** Resolves once the session is usable, opened again if it was lost. */
  async ready(): Promise<void> {
    while (this.lost && !this.closing.signal.aborted) {
      this.reopening ??= this.reopen().finally(() => (this.reopening = undefined));
      await this.reopening;
    }
  }

  private async reopen(): Promise<void> {
    const init = this.initialize;
    const url = this.options.url.href;
    if (!init) {
      throw new BridgeFailure({
        kind: 'http',
        status: 404,
        message: `${url} no longer knows the session and the client never sent initialize`,
      });
    }
    let answer: Answer;
    try {
      answer = await this.request(init);
    } catch (error) {
      if (error instanceof BridgeFailure) throw error;
      const failure = classify(error, false);
      if (failure.kind === 'unreachable') {
        this.options.link.unreachable();
        throw new Retry(failure.message);
      }
      throw new BridgeFailure({ ...failure, message: `re-opening the session: ${failure.message}` });
    }
    if ('error' in answer) {
      const error = answer.error as { message?: string };
      throw new BridgeFailure({ kind: 'http', message: `re-opening the session: ${error.message}` });
    }
    this.handshakeAnswered(answer);
    if (this.clientInitialized) await this.notifyInitialized();
    this.lost = false;
    this.options.link.reopened();
  }

  /** Sent after a (re-)opening; the transport opens the event stream once it is accepted. */
  private async notifyInitialized(): Promise<void> {
    try {
      await this.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } catch (error) {
      this.options.debug?.(`notifications/initialized: ${classify(error, false).message}`);
    }
  }

  private onStreamEnd(): void {
    if (this.closing.signal.aborted) return;
    this.options.debug?.("the legacy session's event stream ended");
    // A server that ends every stream at once must not get a ping and a new stream in a loop.
    const short = Date.now() - this.streamOpenedAt < SHORT_STREAM_MS;
    this.shortStreams = short ? this.shortStreams + 1 : 0;
    const pause = short ? Math.min(this.options.limits.healMaxMs, 250 * 2 ** this.shortStreams) : 0;
    this.healing ??= this.heal(pause).finally(() => (this.healing = undefined));
  }

  /** Get an event stream again: ping; re-open the session if the server forgot it. */
  private async heal(pauseMs: number): Promise<void> {
    const generation = this.generation;
    const signal = this.closing.signal;
    try {
      if (pauseMs > 0) await delay(pauseMs, undefined, { signal, ref: false });
      await pRetry(() => this.healOnce(generation), {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: this.options.limits.retryMinMs,
        maxTimeout: this.options.limits.healMaxMs,
        randomize: true,
        signal,
        unref: true,
        shouldRetry: ({ error }) => error instanceof Retry,
      });
    } catch (error) {
      if (signal.aborted) return;
      const why = error instanceof Error ? error.message : String(error);
      this.options.say(`connect: could not restore the event stream from ${this.options.url.href}: ${why}`);
    }
  }

  private async healOnce(generation: number): Promise<void> {
    if (this.closing.signal.aborted) return;
    await this.ready();
    // Re-opened meanwhile: its notifications/initialized opened a new stream.
    if (this.generation !== generation) return;
    try {
      await this.request({ jsonrpc: '2.0', id: 0, method: 'ping' });
    } catch (error) {
      const failure = error instanceof BridgeFailure ? error.failure : classify(error, true);
      if (failure.kind === 'unreachable') {
        this.options.link.unreachable();
        throw new Retry(failure.message);
      }
      if (failure.kind === 'session-gone') {
        this.gone(generation);
        throw new Retry(failure.message);
      }
      // A ping may run twice: a connection caught closing, or a proxy's 5xx while the server
      // restarts, is worth another try.
      if (failure.kind === 'lost' || (failure.kind === 'http' && (failure.status ?? 0) >= 500)) {
        throw new Retry(failure.message);
      }
      throw new BridgeFailure(failure);
    }
    this.options.link.reached();
    // The server still knows the session; only the stream was lost.
    await this.notifyInitialized();
  }

  /** A request of the bridge's own (its id replaced); the answer is kept from the client. */
  private async request(request: JSONRPCRequest): Promise<Answer> {
    const id = `${INTERNAL_ID_PREFIX}${++this.internalIds}`;
    let settle!: (answer: Answer) => void;
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(
          new BridgeFailure({
            kind: 'lost',
            message: `no answer to ${request.method} from ${this.options.url.href}`,
          }),
        );
      }, this.options.limits.reopenTimeoutMs);
      timer.unref();
      settle = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
    this.internal.set(id, settle);
    try {
      await this.transport.send({ ...request, id });
    } catch (error) {
      // Nothing will answer: stop the timer (its rejection would go unobserved) and report the
      // send's own failure instead.
      this.internal.delete(id);
      settle({ jsonrpc: '2.0', id, result: {} });
      throw error;
    }
    return answer;
  }

  private takeAnswer(message: JSONRPCMessage): boolean {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) return false;
    const answer = message as Answer;
    const settle = this.internal.get(answer.id);
    if (!settle) return false;
    this.internal.delete(answer.id);
    settle(answer);
    return true;
  }
}
