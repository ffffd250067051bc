/**
 * Health of every downstream, for the router (`isAvailable`), the health tools and the CLI.
 *
 * Two inputs: the pool's status events, applied the moment they arrive (a dead child is `down`
 * before the next ping is due), and a ping of each connected server every `intervalMs` (pings in
 * parallel, at most one in flight per server, each bounded by `timeoutMs` on the injected clock).
 * Ping failures feed a circuit breaker per server (see breaker.ts); while it is not closed the
 * server is `down` and the router skips it.
 */
import { type Clock, systemClock } from '../shared/clock.js';
import type { DownstreamPool } from '../downstream/pool.js';
import type { Downstream, DownstreamStatus, Era, TransportKind } from '../downstream/types.js';
import { bareMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { type BreakerState, CircuitBreaker } from './breaker.js';
import { redact } from '../shared/redact.js';

/**
 * healthy: connected, last ping fine. degraded: connected, last ping failed or slower than
 * timeoutMs. down: not connected (restarting, crash-loop, stopped, or starting again after a
 * failure) or breaker not closed. starting: starting for the first time (with how long so far in
 * `startingForMs`); it makes `overall` "starting" until it connects or fails. pending: never
 * started (lazy) — nothing is known, so it does not count towards `overall`.
 */
export type HealthStatus = 'healthy' | 'degraded' | 'down' | 'starting' | 'pending';
export type OverallHealth = 'healthy' | 'degraded' | 'unhealthy' | 'starting';
export type RedisHealth = 'connected' | 'disconnected' | 'disabled';

/** One server in the contract's health shape (null rather than absent, so JSON keeps the key). */
export interface ServerHealth {
  status: HealthStatus;
  transport: TransportKind;
  /** The server's MCP era, once known (null before its first connection). */
  era: Era | null;
  /** Set when the era had to be corrected (a server that claimed modern but failed as modern). */
  eraNote?: string;
  tools: number;
  restarts: number;
  lastError: string | null;
  latencyMs: number | null;
  /** Only while `starting`: how long it has been starting (as far as this monitor saw). */
  startingForMs?: number;
}

export type PostgresHealth = 'connected' | 'disconnected' | 'disabled';

/** The durable record's detail beside `dependencies.postgres` (see coordination/archive). */
export interface PostgresDetail {
  backlog: number;
  bufferLimit: number;
  dropped: number;
  written: number;
  lagMs: number;
  restored: number;
  lastError: string | null;
}

export interface HealthReport {
  overall: OverallHealth;
  servers: Record<string, ServerHealth>;
  dependencies: { redis: RedisHealth; postgres: PostgresHealth };
  /** Present when PostgreSQL is configured: its backlog, drops and lag. */
  postgres?: PostgresDetail;
}

/** What `server(id)` adds for `coordinator__servers` and debugging. */
export interface ServerHealthDetail extends ServerHealth {
  consecutiveFailures: number;
  breaker: BreakerState;
}

export interface HealthMonitorOptions {
  pool: Pick<DownstreamPool, 'get' | 'all' | 'on' | 'off'>;
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  cooldownMs: number;
  clock?: Clock;
  /** Redis as the coordination client sees it; 'disabled' when absent. */
  redis?: () => RedisHealth;
  /** PostgreSQL (the durable record); absent or undefined detail: disabled. */
  postgres?: () => { status: PostgresHealth; detail?: PostgresDetail };
  /** Called on a change to degraded/down, and on a return to healthy from degraded/down. */
  onTransition?: (id: string, from: HealthStatus, to: HealthStatus, detail: string) => void;
  logger?: Logger;
}

interface Tracked {
  readonly downstream: Downstream;
  readonly breaker: CircuitBreaker;
  status: HealthStatus;
  latencyMs: number | null;
  /** The last ping failed or was slow: connected but not well. */
  unwell: boolean;
  lastError: string | undefined;
  pinging: boolean;
  /** Bumped on every (dis)connection: a ping begun on an older session is ignored. */
  epoch: number;
  cancelProbe: (() => void) | undefined;
  /** When this monitor first saw the current start (its own creation at the latest). */
  startingSince: number | undefined;
}

type PingOutcome = { ok: true; latencyMs: number } | { ok: false; error: string };

const GONE: ReadonlySet<DownstreamStatus> = new Set(['restarting', 'crash-loop', 'stopped']);

export class HealthMonitor {
  private readonly servers = new Map<string, Tracked>();
  private readonly clock: Clock;
  private cancelTick: (() => void) | undefined;
  private running = false;
  private readonly onStatus = (id: string, status: DownstreamStatus) => this.onDownstreamStatus(id, status);
  /** A server already starting when first tracked has been starting since at least now. */
  private readonly createdAt: number;

  constructor(private readonly options: HealthMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    this.createdAt = this.clock.now();
  }

  /** Listen to the pool and ping on the interval, starting with a round now. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.options.pool.on('status', this.onStatus);
    for (const downstream of this.options.pool.all()) this.track(downstream);
    this.tick();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.options.pool.off('status', this.onStatus);
    this.cancelTick?.();
    this.cancelTick = undefined;
    for (const tracked of this.servers.values()) tracked.cancelProbe?.();
    // Dropping the entries also makes every ping still in flight stale.
    this.servers.clear();
  }

  /**
   * Ping every connected server whose breaker is closed and that has no ping in flight; resolves
   * once all of them answered or timed out. The CLI's one-shot `health` uses it without start().
   */
  async checkNow(): Promise<void> {
    const due = this.options.pool.all().filter((d) => d.status === 'connected');
    await Promise.all(
      due.map((d) => {
        const tracked = this.track(d);
        return tracked.breaker.state === 'closed' ? this.ping(tracked) : undefined;
      }),
    );
  }

  /** False while the server is known dead or its breaker is not closed: the router skips it. */
  isAvailable(id: string): boolean {
    const downstream = this.options.pool.get(id);
    if (!downstream || GONE.has(downstream.status)) return false;
    const tracked = this.servers.get(id);
    return !tracked || tracked.downstream !== downstream || tracked.breaker.allowsTraffic;
  }

  /** The contract's health shape. overall: see `overallHealth`. */
  report(): HealthReport {
    const servers: Record<string, ServerHealth> = {};
    for (const downstream of this.options.pool.all()) {
      const { consecutiveFailures: _f, breaker: _b, ...health } = this.detail(downstream);
      servers[downstream.id] = health;
    }
    const redis = this.options.redis?.() ?? 'disabled';
    const pg = this.options.postgres?.() ?? { status: 'disabled' as const };
    const statuses = Object.values(servers).map((s) => s.status);
    return {
      overall: overallHealth(statuses, redis, pg.status),
      servers,
      dependencies: { redis, postgres: pg.status },
      ...(pg.detail && { postgres: pg.detail }),
    };
  }

  server(id: string): ServerHealthDetail | undefined {
    const downstream = this.options.pool.get(id);
    return downstream ? this.detail(downstream) : undefined;
  }

  private detail(downstream: Downstream): ServerHealthDetail {
    const tracked = this.track(downstream);
    // Without start() no events arrive; this keeps a one-shot report truthful.
    this.refresh(tracked, `downstream ${downstream.status}`);
    return {
      status: tracked.status,
      transport: downstream.transport,
      era: downstream.era ?? null,
      ...(downstream.eraNote && { eraNote: redact(downstream.eraNote) }),
      tools: downstream.snapshot?.tools.length ?? 0,
      restarts: downstream.restarts,
      lastError: redactOrNull(tracked.lastError ?? downstream.lastError),
      latencyMs: tracked.latencyMs,
      ...(tracked.status === 'starting' && {
        startingForMs: this.clock.now() - (tracked.startingSince ?? this.createdAt),
      }),
      consecutiveFailures: tracked.breaker.consecutiveFailures,
      breaker: tracked.breaker.state,
    };
  }

  private tick(): void {
    void this.checkNow();
    // Fixed cadence, not after the round: a hung server must not delay everyone else's ping.
    this.cancelTick = this.clock.setTimer(() => this.tick(), this.options.intervalMs);
  }

  private onDownstreamStatus(id: string, status: DownstreamStatus): void {
    const downstream = this.options.pool.get(id);
    if (!downstream) {
      // Removed from the pool: this was its final 'stopped'.
      this.servers.get(id)?.cancelProbe?.();
      this.servers.delete(id);
      return;
    }
    if (downstream.status !== status) return; // a late event of a replaced downstream
    const tracked = this.track(downstream);
    tracked.startingSince = status === 'starting' ? this.clock.now() : undefined;
    if (status === 'connected') {
      // A fresh session has just answered initialize and the list requests: proof enough to
      // close the breaker rather than keep skipping a server that is back.
      tracked.epoch++;
      tracked.breaker.reset();
      tracked.unwell = false;
      tracked.cancelProbe?.();
      tracked.cancelProbe = undefined;
    } else if (GONE.has(status)) {
      tracked.epoch++;
      tracked.latencyMs = null;
      tracked.lastError = downstream.lastError ?? tracked.lastError;
    }
    const why = downstream.lastError && status !== 'connected' ? `: ${downstream.lastError}` : '';
    this.refresh(tracked, `downstream ${status}${why}`);
  }

  private track(downstream: Downstream): Tracked {
    const known = this.servers.get(downstream.id);
    if (known?.downstream === downstream) return known;
    known?.cancelProbe?.();
    const tracked: Tracked = {
      downstream,
      breaker: new CircuitBreaker({
        failureThreshold: this.options.failureThreshold,
        cooldownMs: this.options.cooldownMs,
        now: () => this.clock.now(),
      }),
      status: 'pending',
      latencyMs: null,
      unwell: false,
      lastError: undefined,
      pinging: false,
      epoch: 0,
      cancelProbe: undefined,
      startingSince: downstream.status === 'starting' ? this.createdAt : undefined,
    };
    // The first status is a starting point, not a transition: no event for it.
    tracked.status = deriveStatus(tracked);
    this.servers.set(downstream.id, tracked);
    return tracked;
  }

  private async ping(tracked: Tracked): Promise<void> {
    if (tracked.pinging) return;
    tracked.pinging = true;
    const epoch = tracked.epoch;
    const outcome = await this.timedPing(tracked);
    const { downstream } = tracked;
    const current = this.servers.get(downstream.id) === tracked && tracked.epoch === epoch;
    // A ping that raced a disconnect says nothing new: the status event already told the story.
    if (!current || downstream.status !== 'connected') return;
    if (outcome.ok) {
      tracked.breaker.recordSuccess();
      tracked.latencyMs = outcome.latencyMs;
      tracked.unwell = outcome.latencyMs > this.options.timeoutMs;
    } else {
      tracked.breaker.recordFailure();
      tracked.latencyMs = null;
      tracked.unwell = true;
      tracked.lastError = outcome.error;
      if (tracked.breaker.state === 'open') this.scheduleProbe(tracked);
    }
    this.refresh(tracked, describe(outcome, tracked.breaker, this.options.timeoutMs));
  }

  /**
   * The downstream's ping bounded by our own timer too, so a ping that never settles still
   * counts as a failure on time; `pinging` stays set until it does settle (one in flight).
   */
  private async timedPing(tracked: Tracked): Promise<PingOutcome> {
    const { timeoutMs } = this.options;
    const ping = tracked.downstream.ping(timeoutMs).then(
      (latencyMs): PingOutcome => ({ ok: true, latencyMs }),
      (error: unknown): PingOutcome => ({ ok: false, error: bareMessage(error) }),
    );
    let cancel = () => {};
    const guard = new Promise<PingOutcome>((resolve) => {
      cancel = this.clock.setTimer(
        () =>
          resolve({ ok: false, error: `${tracked.downstream.id}: no answer to ping within ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    void ping.then(() => {
      tracked.pinging = false;
    });
    try {
      return await Promise.race([ping, guard]);
    } finally {
      cancel();
    }
  }

  /** After the cooldown, one probe decides (half-open); if it cannot be sent yet, wait again. */
  private scheduleProbe(tracked: Tracked): void {
    tracked.cancelProbe?.();
    tracked.cancelProbe = undefined;
    if (!this.running) return;
    const wait = tracked.breaker.msUntilProbe() || this.options.cooldownMs;
    tracked.cancelProbe = this.clock.setTimer(() => {
      tracked.cancelProbe = undefined;
      if (this.servers.get(tracked.downstream.id) !== tracked) return;
      const sendable = tracked.downstream.status === 'connected' && !tracked.pinging;
      if (sendable && tracked.breaker.beginProbe()) void this.ping(tracked);
      else if (tracked.breaker.state === 'open') this.scheduleProbe(tracked);
    }, wait);
  }

  private refresh(tracked: Tracked, detail: string): void {
    const previous = tracked.status;
    const next = deriveStatus(tracked);
    if (next === previous) return;
    tracked.status = next;
    if (!announces(previous, next)) return;
    try {
      this.options.onTransition?.(tracked.downstream.id, previous, next, detail);
    } catch (error) {
      this.options.logger?.error('health transition listener failed', {
        server: tracked.downstream.id,
        error,
      });
    }
  }
}

/**
 * Among the servers that are up or known wrong: all healthy (or none) → healthy; none healthy →
 * unhealthy; else degraded. A server still starting for the first time makes an otherwise healthy
 * answer "starting" (not yet healthy, nothing known wrong); `pending` (lazy, never started)
 * servers are not counted. A configured Redis that is disconnected makes a healthy coordinator
 * degraded: locks and tasks are refused until it is back. So does a configured PostgreSQL that is
 * disconnected: nothing is refused, but the durable record is only a (bounded) backlog.
 */
export function overallHealth(
  statuses: readonly HealthStatus[],
  redis: RedisHealth = 'disabled',
  postgres: PostgresHealth = 'disabled',
): OverallHealth {
  const counted = statuses.filter((s) => s !== 'pending' && s !== 'starting');
  const healthy = counted.filter((s) => s === 'healthy').length;
  let servers: OverallHealth =
    healthy === counted.length ? 'healthy' : healthy === 0 ? 'unhealthy' : 'degraded';
  if (servers === 'healthy' && statuses.includes('starting')) servers = 'starting';
  const dependencyDown = redis === 'disconnected' || postgres === 'disconnected';
  return servers !== 'unhealthy' && dependencyDown ? 'degraded' : servers;
}

function deriveStatus(tracked: Tracked): HealthStatus {
  const { downstream } = tracked;
  switch (downstream.status) {
    case 'idle':
      return 'pending';
    case 'starting':
      // Starting again after a failure is down; the very first start is starting.
      return downstream.restarts === 0 && downstream.lastError === undefined ? 'starting' : 'down';
    case 'restarting':
    case 'crash-loop':
    case 'stopped':
      return 'down';
    case 'connected':
      if (!tracked.breaker.allowsTraffic) return 'down';
      return tracked.unwell ? 'degraded' : 'healthy';
  }
}

/** Events worth publishing: getting worse, and recovering from worse (not first coming up). */
function announces(from: HealthStatus, to: HealthStatus): boolean {
  if (to === 'degraded' || to === 'down') return true;
  return to === 'healthy' && (from === 'degraded' || from === 'down');
}

function describe(outcome: PingOutcome, breaker: CircuitBreaker, timeoutMs: number): string {
  if (outcome.ok) {
    return outcome.latencyMs > timeoutMs
      ? `ping took ${outcome.latencyMs} ms (over ${timeoutMs} ms)`
      : `ping ok (${outcome.latencyMs} ms)`;
  }
  if (breaker.state === 'open') {
    return `circuit open after ${breaker.consecutiveFailures} consecutive failures: ${outcome.error}`;
  }
  return outcome.error;
}

function redactOrNull(text: string | undefined): string | null {
  return text === undefined ? null : redact(text);
}
