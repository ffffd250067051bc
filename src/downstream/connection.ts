/**
 * A downstream under supervision: connect, keep connected, restart with bounded exponential
 * backoff (p-retry), fall into a slow crash-loop cadence after repeated failures, and make sure a
 * stopped server leaves nothing behind.
 *
 * State lives in one status union changed only by `setStatus()`. Every run of the supervise loop
 * carries the generation it was started with; `stop()` bumps it, so an attempt that finishes after
 * the stop (or any late callback) sees it is stale and discards its result.
 */
import { EventEmitter } from 'node:events';
import type { Client } from '@modelcontextprotocol/client';
import type { Transport } from '@modelcontextprotocol/client';
import { type Implementation, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import pRetry from 'p-retry';
import type { ServerConfig } from '../config/schema.js';
import { bareMessage, TransportFailureError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { type Clock, sleep, systemClock } from '../shared/clock.js';
import { ReadyWaiters } from './ready-waiters.js';
import {
  attemptFailure,
  backoffOptions,
  crashLoopOptions,
  DEFAULT_SUPERVISOR_TIMINGS,
  type SupervisorTimings,
} from './retry-policy.js';
import { DownstreamSession, EraMismatchError } from './session.js';
import type {
  Downstream,
  DownstreamEvents,
  DownstreamHooks,
  DownstreamSnapshot,
  DownstreamStatus,
  Era,
  EraVerdict,
  TransportKind,
} from './types.js';
import { redact } from '../shared/redact.js';

export const DEFAULT_CLIENT_INFO: Implementation = { name: 'mcp-coordinator', version: '0.0.0' };

export interface SupervisedDownstreamOptions {
  id: string;
  config: ServerConfig;
  kind: TransportKind;
  /** A fresh transport per attempt (see transports.ts); remote ones may load their module first. */
  createTransport: () => Transport | Promise<Transport>;
  hooks: DownstreamHooks;
  logger: Logger;
  clientInfo?: Implementation;
  /** The era verdict the warm catalog holds for this server (no probe when there is one). */
  priorEra?: () => EraVerdict | undefined;
  clock?: Clock;
  timings?: Partial<SupervisorTimings>;
}

export class SupervisedDownstream implements Downstream {
  readonly id: string;
  readonly config: ServerConfig;
  readonly transport: TransportKind;
  private readonly timings: SupervisorTimings;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly events = new EventEmitter();
  private _status: DownstreamStatus = 'idle';
  private generation = 0;
  private abort: AbortController | undefined;
  /** The session being opened or in use; kept after it dies so stop() can await its reaping. */
  private session: DownstreamSession | undefined;
  /** Set exactly while status is 'connected'. */
  private client: Client | undefined;
  private readonly waiters: ReadyWaiters<Client>;
  private attempts = 0;
  private consecutiveFailures = 0;
  private lastFailure: TransportFailureError | undefined;
  private _restarts = 0;
  private _snapshot: DownstreamSnapshot | undefined;
  private stopped: Promise<void> | undefined;
  /** A transport whose child was spawned at process start (see early.ts); the first attempt's. */
  private early: Transport | undefined;
  /** The last era verdict: reused by reconnects (the spec lets a client cache it). */
  private verdict: EraVerdict | undefined;
  private _eraNote: string | undefined;

  constructor(private readonly options: SupervisedDownstreamOptions) {
    this.id = options.id;
    this.config = options.config;
    this.transport = options.kind;
    this.timings = { ...DEFAULT_SUPERVISOR_TIMINGS, ...options.timings };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.waiters = new ReadyWaiters(this.clock);
  }

  get status(): DownstreamStatus {
    return this._status;
  }
  get restarts(): number {
    return this._restarts;
  }
  get lastError(): string | undefined {
    const message = this.lastFailure?.message;
    return message === undefined ? undefined : redact(message);
  }
  get snapshot(): DownstreamSnapshot | undefined {
    return this._snapshot;
  }
  get era(): Era | undefined {
    return this.verdict?.era ?? this._snapshot?.era;
  }
  get eraNote(): string | undefined {
    return this._eraNote;
  }

  async subscribe(uri: string, on: boolean, timeoutMs: number): Promise<void> {
    await this.whenReady(timeoutMs);
    const session = this.session;
    if (!session) throw this.unavailable();
    await session.subscribe(uri, on, timeoutMs);
  }

  start(): void {
    if (this._status !== 'idle') return;
    const generation = ++this.generation;
    this.abort = new AbortController();
    this.supervise(generation, this.abort.signal).catch((error: unknown) => {
      if (this.isCurrent(generation)) this.logger.error('supervisor stopped unexpectedly', { error });
    });
  }

  /** Before start(): use `transport` (a child spawned at process start) for the first attempt. */
  adopt(transport: Transport): boolean {
    if (this._status !== 'idle' || this.early) return false;
    this.early = transport;
    return true;
  }

  whenReady(timeoutMs: number): Promise<Client> {
    if (this._status === 'stopped') return Promise.reject(this.unavailable(`${this.id} is stopped`));
    if (this.client) return Promise.resolve(this.client);
    this.start();
    if (this.failingFast()) return Promise.reject(this.unavailable());
    return this.waiters.wait(timeoutMs, () => {
      const reason = this._status === 'restarting' ? 'unavailable' : 'timeout';
      return this.failure(reason, `${this.id} not ready after ${timeoutMs} ms (${this.describe()})`);
    });
  }

  async ping(timeoutMs: number): Promise<number> {
    const begun = this.clock.now();
    const client = await this.whenReady(timeoutMs);
    const sent = this.clock.now();
    const timeout = Math.max(1, timeoutMs - (sent - begun));
    try {
      // 2026-07-28 removed ping; server/discover is the one request every modern server answers.
      if (client.getProtocolEra() === 'modern') await client.discover({ timeout });
      else await client.ping({ timeout });
    } catch (error) {
      const timedOut = error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout;
      throw this.failure(
        timedOut ? 'timeout' : 'closed',
        `${this.id}: ping failed: ${bareMessage(error)}`,
        error,
      );
    }
    return this.clock.now() - sent;
  }

  /** Terminal: a stopped downstream never starts again (the pool builds a new one on reload). */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.generation++;
    this.abort?.abort(this.unavailable(`${this.id} is stopped`));
    this.client = undefined;
    this.setStatus('stopped');
    this.waiters.rejectAll(this.unavailable(`${this.id} is stopped`));
    const early = this.early;
    this.early = undefined;
    this.stopped = Promise.all([this.session?.close(), early?.close()]).then(() => {});
    return this.stopped;
  }

  on<E extends keyof DownstreamEvents>(event: E, listener: (...args: DownstreamEvents[E]) => void): void {
    this.events.on(event, listener as (...args: unknown[]) => void);
  }

  off<E extends keyof DownstreamEvents>(event: E, listener: (...args: DownstreamEvents[E]) => void): void {
    this.events.off(event, listener as (...args: unknown[]) => void);
  }

  /** Connect, stay connected, reconnect: runs until stop() aborts it. */
  private async supervise(generation: number, signal: AbortSignal): Promise<void> {
    const backoff = backoffOptions(this.timings, this.transport);
    while (this.isCurrent(generation)) {
      let session: DownstreamSession;
      try {
        session = await pRetry(() => this.attempt(generation), {
          ...backoff,
          signal,
          onFailedAttempt: ({ error, retriesLeft }) =>
            this.onAttemptFailed(generation, error, retriesLeft > 0 ? 'restarting' : 'crash-loop'),
        });
      } catch (error) {
        if (signal.aborted || !this.isCurrent(generation)) return;
        session = await this.crashLoop(generation, signal, error);
      }
      await session.closed;
      // The close was handled by onSessionClosed; loop to reconnect with a fresh failure budget.
    }
  }

  /** Crash-loop: one attempt every crashLoopRetryMs until a connection holds. */
  private async crashLoop(
    generation: number,
    signal: AbortSignal,
    error: unknown,
  ): Promise<DownstreamSession> {
    const every = this.timings.crashLoopRetryMs;
    this.logger.error(`crash-loop after ${this.consecutiveFailures} failures; retrying every ${every} ms`, {
      error: bareMessage(error),
    });
    await sleep(this.clock, every, signal);
    return pRetry(() => this.attempt(generation), {
      ...crashLoopOptions(this.timings),
      signal,
      onFailedAttempt: ({ error: failure }) => this.onAttemptFailed(generation, failure, 'crash-loop'),
    });
  }

  /**
   * One attempt. Resolves only once the connection has held for stableAfterMs: a connection that
   * dies sooner rejects, so p-retry counts it as a failure and backs off before the next one.
   */
  private async attempt(generation: number): Promise<DownstreamSession> {
    if (!this.isCurrent(generation)) throw this.unavailable(`${this.id} is stopped`);
    if (this.attempts++ > 0) this._restarts++;
    if (this._status !== 'crash-loop') this.setStatus('starting');
    let transport: Transport;
    try {
      const made = this.takeEarly() ?? this.options.createTransport();
      transport = made instanceof Promise ? await made : made;
    } catch (error) {
      throw this.toFailure(error);
    }
    const session: DownstreamSession = new DownstreamSession({
      serverId: this.id,
      kind: this.transport,
      transport,
      clientInfo: this.options.clientInfo ?? DEFAULT_CLIENT_INFO,
      hooks: this.options.hooks,
      logger: this.logger,
      protocol: this.config.protocol,
      prior: this.verdict ?? this.options.priorEra?.(),
      connectTimeoutMs: this.config.connectTimeoutMs,
      timeoutMs: this.config.timeoutMs,
      onCatalog: (snapshot) => this.onCatalog(generation, session, snapshot),
    });
    this.session = session;
    let snapshot: DownstreamSnapshot;
    try {
      snapshot = await session.open();
    } catch (error) {
      if (error instanceof EraMismatchError) {
        // Detected, reported in health, and retried as legacy on the next attempt.
        this._eraNote = error.message;
        this.verdict = { era: 'legacy' };
        this.logger.warn(error.message);
      }
      throw this.toFailure(error);
    }
    this.verdict = { era: snapshot.era ?? 'legacy', discover: snapshot.discover };
    if (!this.isCurrent(generation)) {
      await session.close();
      throw this.unavailable(`${this.id} is stopped`);
    }
    this._snapshot = snapshot;
    this.client = session.client;
    this.setStatus('connected');
    this.waiters.resolveAll(session.client);
    this.emit('catalog', snapshot);
    void session.closed.then((reason) => this.onSessionClosed(generation, session, reason));
    const window = new AbortController();
    const signals = this.abort ? [this.abort.signal, window.signal] : [window.signal];
    const early = await Promise.race([
      session.closed,
      sleep(this.clock, this.timings.stableAfterMs, AbortSignal.any(signals)).then(() => undefined),
    ]).finally(() => window.abort());
    if (early) throw early;
    this.consecutiveFailures = 0;
    return session;
  }

  private takeEarly(): Transport | undefined {
    const early = this.early;
    this.early = undefined;
    return early;
  }

  private onSessionClosed(
    generation: number,
    session: DownstreamSession,
    reason: TransportFailureError,
  ): void {
    if (!this.isCurrent(generation) || this.session !== session) return;
    this.client = undefined;
    this.lastFailure = reason;
    this.logger.warn(`connection lost: ${reason.message}`);
    this.setStatus('restarting');
  }

  private onAttemptFailed(generation: number, error: Error, next: 'restarting' | 'crash-loop'): void {
    if (!this.isCurrent(generation)) return;
    this.client = undefined;
    this.consecutiveFailures++;
    this.lastFailure = this.toFailure(error);
    // A remote server that stays down is retried forever: warn for the first few, then go quiet.
    const log = this.consecutiveFailures <= this.timings.maxFailures ? 'warn' : 'debug';
    this.logger[log](`connect attempt ${this.consecutiveFailures} failed: ${this.lastFailure.message}`);
    this.setStatus(next);
    if (this.failingFast()) this.waiters.rejectAll(this.unavailable());
  }

  private onCatalog(generation: number, session: DownstreamSession, snapshot: DownstreamSnapshot): void {
    if (!this.isCurrent(generation) || this.session !== session) return;
    this._snapshot = snapshot;
    this.emit('catalog', snapshot);
  }

  /**
   * Whether waiting is pointless: too many failures in a row, or the command cannot even be
   * spawned (retrying in 200 ms will not install it). Callers then fail (or fail over) at once.
   */
  private failingFast(): boolean {
    if (this.client || this.consecutiveFailures === 0) return false;
    return this.consecutiveFailures >= this.timings.maxFailures || this.lastFailure?.reason === 'spawn';
  }

  private setStatus(next: DownstreamStatus): void {
    const previous = this._status;
    if (previous === next) return;
    this._status = next;
    this.logger.debug(`status ${previous} → ${next}`);
    this.emit('status', next, previous);
  }

  private emit<E extends keyof DownstreamEvents>(event: E, ...args: DownstreamEvents[E]): void {
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      // A throwing listener must not break the state machine.
      this.logger.error(`${event} listener failed`, { error });
    }
  }

  private isCurrent(generation: number): boolean {
    return generation === this.generation && this._status !== 'stopped';
  }

  private describe(): string {
    return `status ${this._status}${this.lastFailure ? `; last error: ${this.lastFailure.message}` : ''}`;
  }

  private unavailable(message?: string): TransportFailureError {
    const reason = this.lastFailure?.reason === 'spawn' && !message ? 'spawn' : 'unavailable';
    return this.failure(
      reason,
      message ?? `${this.id} is unavailable (${this.describe()})`,
      this.lastFailure,
    );
  }

  private failure(
    reason: TransportFailureError['reason'],
    message: string,
    cause?: unknown,
  ): TransportFailureError {
    return new TransportFailureError(this.id, reason, message, { cause });
  }

  private toFailure(error: unknown): TransportFailureError {
    return attemptFailure(this.id, this.config.connectTimeoutMs, error);
  }
}
