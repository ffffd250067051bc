/**
 * The shared bus. Every event goes to `<prefix>events`, to its family channel and to the capped
 * stream `<prefix>events:stream`, through one script call per batch. `publish` never waits on the
 * network: events wait in a bounded, ordered outbox that is drained whenever Redis is reachable,
 * so an outage costs the oldest events beyond the limit (counted), never a blocked tool call.
 *
 * Delivery is at-least-once: a batch whose connection dropped mid-flight is sent again, and with
 * signing on, the seen-id check drops the duplicates.
 *
 * This process's own events are delivered to its own subscribers at once, not when Redis echoes
 * them back (the echo, told apart by the id generator's tag, is skipped): Redis killed between
 * acknowledging a batch and writing it to the subscriber connection would otherwise lose them
 * for this process, and an outage would hold them back from it.
 *
 * Other coordinators' events published while this one's subscription was down (Redis restarting,
 * the link cut, another coordinator flushing its outbox first) are read back from the stream when
 * it resubscribes: every entry the stream took from a little before the link went down (by the
 * stream ids, Redis's own clock, so neither a publisher's clock nor a late flush of old events
 * matters), skipping the ids already delivered, with live messages held back meanwhile so they
 * follow in order. A read that fails is tried again in the background (late rather than never).
 * Only what Redis itself lost (a restart without persistence, entries trimmed off the capped
 * stream before they were read) is gone.
 */
import type { RedisClient } from '../redis-connect.js';
import { CoordinationUnavailableError, bareMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { EventIdGenerator, createEvent } from '../events.js';
import {
  EVENT_FAMILY,
  type BusStats,
  type BusStatus,
  type CoordinationEvent,
  type EventBus,
  type EventInput,
  type ReplayOptions,
} from '../types.js';
import { Dispatcher } from './dispatch.js';
import { RecentIds } from './recent-ids.js';
import {
  REDIS_BUS_DEFAULTS as DEFAULTS,
  assertRedisUrl,
  busConnection,
  closeConnection,
  definePublishEvents,
  isReplyError,
  type PublishEvents,
} from './redis-connection.js';
import { readStream } from './redis-replay.js';
import type { RedisTarget } from '../redis-target.js';
import { planReplay } from './replay.js';
import { Outbox } from './outbox.js';

/** Reading back what a lost subscription missed. */
const CATCH_UP = {
  /**
   * Read the entries the stream took from this long before the link was seen to go (batches in
   * flight, the time the loss took to be noticed, the estimate of Redis's clock).
   */
  marginMs: 5_000,
  /**
   * Ids of other coordinators' delivered events kept to skip them in a catch-up read (~100 bytes
   * each with the set): the margin's worth at 4,000 events/s; beyond, an event may come twice
   * (delivery is at-least-once), never not at all.
   */
  recentIds: 20_000,
  /** Live messages held back during a catch-up read; beyond this they are read from the stream after. */
  maxHeld: 10_000,
  waitForPublisherMs: 5_000,
  /** A failed read is tried again after 1 s, 2 s, 4 s … (at most this long apart) … */
  retryMaxDelayMs: 30_000,
  /** … this many times, then the gap is given up with a warning. */
  retries: 8,
} as const;

export interface RedisBusOptions {
  /** A redis:// URL, or a Cluster or Sentinel target. */
  redisUrl: RedisTarget;
  prefix: string;
  /** Approximate cap of the stream (XADD MAXLEN ~). */
  streamMaxLen: number;
  secret?: string;
  source: string;
  agentId: string;
  logger: Logger;
  clock?: () => number;
  /** Events kept while Redis is unreachable; the oldest go first. */
  bufferLimit?: number;
  reconnectMaxDelayMs?: number;
}

/**
 * An event as it goes on the wire, serialised at publish time so that a caller changing its
 * data afterwards can neither change what is sent nor break its signature.
 */
interface Outgoing {
  family: string;
  json: string;
}

export type StatusListener = (status: BusStatus, previous: BusStatus) => void;

export class RedisBus implements EventBus {
  private current: BusStatus = 'disconnected';
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly publishEvents: PublishEvents;
  private readonly channel: string;
  private readonly streamKey: string;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly ids = new EventIdGenerator();
  /** The end of every id this bus mints (`-<tag>`): the echo of an own event. */
  private readonly ownIdEnd = `-${this.ids.tag}`;
  /** Own events waiting for the microtask that hands them to subscribers, in publication order. */
  private local: string[] = [];
  /** Other coordinators' events delivered lately (live or caught up), so none is delivered twice. */
  private readonly delivered = new RecentIds(CATCH_UP.recentIds);
  /** When the subscription was lost (this process's clock); undefined while it is up. */
  private lostAtMs: number | undefined;
  /** The oldest loss whose catch-up read failed and has not succeeded since. */
  private unreadSince: number | undefined;
  /** Live messages that arrived while a catch-up read was running; undefined when none runs. */
  private held: string[] | undefined;
  /** Live messages came beyond the hold's cap during the current catch-up. */
  private heldOverflowed = false;
  private readonly dispatcher: Dispatcher;
  private readonly outbox: Outbox<Outgoing>;
  private readonly listeners = new Set<StatusListener>();
  private pubReady = false;
  private subscribed = false;
  /** Bumped on every subscriber connect/close, so a late SUBSCRIBE reply from a dead link is ignored. */
  private subGeneration = 0;
  private everConnected = false;
  /** Settles on the first connection or the first error, whichever comes first. */
  private firstSettled!: () => void;
  private readonly firstOutcome = new Promise<void>((resolve) => (this.firstSettled = resolve));
  /** Whether the subscription was ever live: only a lost one needs catching up after. */
  private everSubscribed = false;
  private lastError: string | undefined;
  private warnedDrop = false;
  private published = 0;
  private dropped = 0;
  /** Set by close(): nothing more is published or delivered. */
  private closing: Promise<void> | undefined;
  /** Set once close() has flushed: the connections may no longer come up. */
  private stopped = false;

  /** Throws InvalidArgumentError for a URL that is not redis://, rediss:// or a socket path. */
  constructor(private readonly options: RedisBusOptions) {
    if (typeof options.redisUrl === 'string') assertRedisUrl(options.redisUrl);
    this.logger = options.logger.child('bus');
    this.clock = options.clock ?? Date.now;
    this.channel = `${options.prefix}events`;
    this.streamKey = `${options.prefix}events:stream`;
    this.outbox = new Outbox({
      limit: options.bufferLimit ?? DEFAULTS.bufferLimit,
      batchSize: DEFAULTS.batchSize,
      resendDelayMs: DEFAULTS.resendDelayMs,
      send: (batch) => this.send(batch),
      canSend: () => this.current === 'connected',
      onDropped: (count) => this.noteDropped(count),
    });
    this.dispatcher = new Dispatcher({ secret: options.secret, clock: this.clock, logger: this.logger });
    const maxDelay = options.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs;
    this.pub = busConnection(options.redisUrl, `${options.source}:bus-pub`, maxDelay);
    this.sub = busConnection(options.redisUrl, `${options.source}:bus-sub`, maxDelay);
    this.publishEvents = definePublishEvents(this.pub);

    this.pub.on('ready', () => {
      this.pubReady = true;
      this.refreshStatus();
    });
    this.pub.on('close', () => {
      this.pubReady = false;
      this.refreshStatus();
    });
    this.sub.on('ready', () => this.resubscribe());
    this.sub.on('close', () => {
      this.subGeneration += 1;
      // From the oldest loss not yet read back (a catch-up still being retried), else from now.
      this.lostAtMs ??= this.everSubscribed
        ? Math.min(this.clock(), this.unreadSince ?? Infinity)
        : undefined;
      this.subscribed = false;
      this.held = undefined;
      this.heldOverflowed = false;
      this.refreshStatus();
    });
    this.pub.on('error', (error: unknown) => this.noteError('publisher', error));
    this.sub.on('error', (error: unknown) => this.noteError('subscriber', error));
    this.sub.on('message', (_channel: string, json: string) => {
      if (this.closing) return;
      if (this.held) {
        // Beyond the cap the message is left to the stream: the catch-up reads it again after.
        if (this.held.length < CATCH_UP.maxHeld) this.held.push(json);
        else this.heldOverflowed = true;
        return;
      }
      this.receive(json);
    });
  }

  get status(): BusStatus {
    return this.current;
  }

  publish(input: EventInput): CoordinationEvent {
    const event = createEvent(input, {
      source: this.options.source,
      agentId: this.options.agentId,
      clock: this.clock,
      ids: this.ids,
      secret: this.options.secret,
    });
    if (this.closing) {
      this.noteDropped(1);
      return event;
    }
    this.published += 1;
    const json = JSON.stringify(event);
    this.outbox.push({ family: EVENT_FAMILY[event.type], json });
    this.deliverLocally(json);
    return event;
  }

  /** Own events to own subscribers, after the publishing call returns, as others will see them. */
  private deliverLocally(json: string): void {
    this.local.push(json);
    if (this.local.length > 1) return; // a drain is already scheduled
    queueMicrotask(() => {
      const batch = this.local;
      this.local = [];
      if (this.closing) return;
      for (const one of batch) this.dispatcher.deliver(JSON.parse(one) as CoordinationEvent);
    });
  }

  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void {
    return this.dispatcher.subscribe(handler, typeGlob);
  }

  async replay(options?: ReplayOptions): Promise<CoordinationEvent[]> {
    const plan = planReplay(options);
    if (this.closing) throw new CoordinationUnavailableError('the event bus is closed');
    try {
      return await readStream(
        this.pub,
        this.streamKey,
        plan,
        (json) => this.dispatcher.decodeStored(json),
        DEFAULTS.replayPageSize,
      );
    } catch (error) {
      throw new CoordinationUnavailableError(`cannot read ${this.streamKey}: ${bareMessage(error)}`, {
        cause: error,
      });
    }
  }

  /** Called with every status change (health, the event flusher). Returns an unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): BusStats {
    return {
      published: this.published,
      delivered: this.dispatcher.delivered,
      dropped: this.dropped,
      rejected: this.dispatcher.rejected,
      buffered: this.outbox.size,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // A one-shot command may be done before its first connection is: wait for that (or its
    // first failure) within the same bound, so what it published is not dropped unsent. A
    // Redis known to be down is not waited for.
    if (this.outbox.size > 0 && !this.everConnected && this.lastError === undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.firstOutcome,
        new Promise((resolve) => (timer = setTimeout(resolve, DEFAULTS.closeFlushTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    // Give what is queued (typically a final agent:left) a bounded chance to leave.
    await this.outbox.flush(DEFAULTS.closeFlushTimeoutMs);
    this.stopped = true;
    this.outbox.stop();
    this.dispatcher.clear();
    this.subGeneration += 1;
    this.pubReady = false;
    this.subscribed = false;
    this.setStatus('disconnected');
    this.listeners.clear();
    await Promise.all([closeConnection(this.pub), closeConnection(this.sub)]);
  }

  /** A live message: verified, then delivered unless it is our own echo or was delivered already. */
  private receive(json: string): void {
    if (this.closing) return;
    const { event } = this.dispatcher.admit(json);
    if (!event || event.id.endsWith(this.ownIdEnd) || this.delivered.has(event.id)) return;
    this.delivered.add(event.id);
    this.dispatcher.deliver(event);
  }

  private resubscribe(): void {
    const generation = ++this.subGeneration;
    const lostAt = this.lostAtMs;
    // Held from the SUBSCRIBE on: what arrives live during the catch-up read comes after it.
    if (lostAt !== undefined) this.held = [];
    this.sub.subscribe(this.channel).then(
      async () => {
        if (generation !== this.subGeneration || this.stopped) return;
        if (lostAt !== undefined && !this.closing) {
          const done = await this.catchUp(lostAt, generation);
          if (generation !== this.subGeneration || this.stopped) return;
          this.lostAtMs = undefined;
          // A failed read, or live messages beyond the hold's cap (in the stream, read next time).
          if (this.heldOverflowed) this.unreadSince = Math.min(this.unreadSince ?? lostAt, lostAt);
          // Overflow: at once, before the capped stream trims what was not held.
          if (!done || this.heldOverflowed) this.retryCatchUp(lostAt, generation, 0, done ? 0 : undefined);
          this.heldOverflowed = false;
        }
        this.releaseHeld();
        this.everSubscribed = true;
        this.subscribed = true;
        this.refreshStatus();
      },
      (error: unknown) => this.noteError('subscriber', error),
    );
  }

  /**
   * Other coordinators' events the stream took since a little before `lostAt` (this process's
   * clock), oldest first. False when the read could not be made (to be tried again).
   */
  private async catchUp(lostAt: number, generation: number): Promise<boolean> {
    try {
      if (!this.pubReady) await this.pubBecomesReady(CATCH_UP.waitForPublisherMs);
      // Stream ids are Redis's clock: where the loss falls on it, by the offset measured now.
      const before = this.clock();
      const [seconds = 0, micros = 0] = (await this.pub.time()) as Array<string | number>;
      const offsetMs =
        Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000) - (before + this.clock()) / 2;
      const fromMs = Math.max(0, Math.floor(lostAt + offsetMs - CATCH_UP.marginMs));
      const events = await readStream(
        this.pub,
        this.streamKey,
        { fromMs, accept: () => true, fromNewest: false },
        (json) => this.dispatcher.decodeStored(json),
        DEFAULTS.replayPageSize,
      );
      let caughtUp = 0;
      for (const event of events) {
        if (this.closing || generation !== this.subGeneration) return true;
        if (event.id.endsWith(this.ownIdEnd) || this.delivered.has(event.id)) continue;
        this.delivered.add(event.id);
        this.dispatcher.deliver(event);
        caughtUp += 1;
      }
      if (caughtUp > 0) this.logger.info('caught up on events published while disconnected', { caughtUp });
      if (this.unreadSince !== undefined && lostAt <= this.unreadSince) this.unreadSince = undefined;
      return true;
    } catch (error) {
      // A read of a subscription already gone leaves the gap to the next one's lostAtMs.
      if (generation === this.subGeneration) this.unreadSince = Math.min(this.unreadSince ?? lostAt, lostAt);
      this.logger.warn('could not read back events missed while disconnected; trying again', {
        error: bareMessage(error),
      });
      return false;
    }
  }

  /**
   * Reads back again in the background (after a failed read, or for live messages beyond the
   * hold's cap), live delivery going on meanwhile: what it finds comes late, out of order, but
   * once. Ends with the subscription it belongs to: a new loss starts its own catch-up from the
   * older point (unreadSince).
   */
  private retryCatchUp(lostAt: number, generation: number, attempt: number, delayMs?: number): void {
    if (attempt >= CATCH_UP.retries) {
      this.unreadSince = undefined;
      this.logger.warn('gave up reading back events missed while disconnected', {
        since: new Date(lostAt).toISOString(),
        attempts: attempt + 1,
      });
      return;
    }
    const delay = delayMs ?? Math.min(1_000 * 2 ** attempt, CATCH_UP.retryMaxDelayMs);
    const timer = setTimeout(() => {
      if (this.closing || generation !== this.subGeneration) return;
      void this.catchUp(lostAt, generation).then((done) => {
        // The link going again hands the gap to the next subscription's catch-up (unreadSince).
        if (done || this.closing || generation !== this.subGeneration) return;
        this.retryCatchUp(lostAt, generation, attempt + 1);
      });
    }, delay);
    timer.unref();
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    for (const json of held ?? []) this.receive(json);
  }

  private pubBecomesReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pub.off('ready', onReady);
        reject(new Error(`publisher connection not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      // A close while the catch-up waits must not be held up by it.
      timer.unref();
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.pub.once('ready', onReady);
    });
  }

  private refreshStatus(): void {
    this.setStatus(!this.stopped && this.pubReady && this.subscribed ? 'connected' : 'disconnected');
  }

  private setStatus(next: BusStatus): void {
    const previous = this.current;
    if (next === previous) return;
    this.current = next;
    const buffered = this.stats().buffered;
    if (next === 'connected') {
      this.firstSettled();
      this.logger.info(this.everConnected ? 'redis reconnected' : 'redis connected', { buffered });
      this.everConnected = true;
      this.warnedDrop = false;
      this.outbox.kick();
    } else if (!this.closing) {
      this.logger.warn('redis disconnected; buffering events', { lastError: this.lastError, buffered });
    }
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        this.logger.error('bus status listener threw', { error });
      }
    }
  }

  private noteError(role: 'publisher' | 'subscriber', error: unknown): void {
    const message = bareMessage(error);
    this.firstSettled();
    // The first failure to ever reach Redis is worth a warning (a wrong URL); retries are noise.
    if (!this.everConnected && this.lastError === undefined) {
      this.logger.warn('cannot reach redis yet; buffering events', { role, error: message });
    } else {
      this.logger.debug('redis error', { role, error: message });
    }
    this.lastError = message;
  }

  private noteDropped(count: number): void {
    if (count === 0) return;
    this.dropped += count;
    if (!this.warnedDrop) {
      this.warnedDrop = true;
      this.logger.warn('event buffer full; dropping the oldest events', { limit: this.outbox.limit });
    }
  }

  /** Sends one batch; returns the events that must be sent again. */
  private async send(batch: Outgoing[]): Promise<Outgoing[]> {
    const args: string[] = [];
    for (const item of batch) args.push(item.family, item.json);
    try {
      await this.publishEvents(this.streamKey, this.channel, String(this.options.streamMaxLen), ...args);
      return [];
    } catch (error) {
      if (isReplyError(error)) {
        // Redis refused the script itself (e.g. the stream key holds another type): resending
        // cannot help, so the batch is reported and counted as dropped.
        this.logger.error('redis refused to record events', {
          error: bareMessage(error),
          events: batch.length,
        });
        this.dropped += batch.length;
        return [];
      }
      this.noteError('publisher', error);
      return batch;
    }
  }
}
