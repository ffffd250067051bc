/**
 * The shared bus. Every event goes to `<prefix>events`, to its family channel and to the capped
 * stream `<prefix>events:stream`, through one script call per batch. `publish` never waits on the
 * network: events wait in a bounded, ordered outbox that is drained whenever Redis is reachable,
 * so an outage costs the oldest events beyond the limit (counted), never a blocked tool call.
 *
 * Delivery is at-least-once: a batch whose connection dropped mid-flight is sent again, and with
 * signing on, the seen-id check drops the duplicates.
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
  private readonly dispatcher: Dispatcher;
  private readonly outbox: Outbox<Outgoing>;
  private readonly listeners = new Set<StatusListener>();
  private pubReady = false;
  private subscribed = false;
  /** Bumped on every subscriber connect/close, so a late SUBSCRIBE reply from a dead link is ignored. */
  private subGeneration = 0;
  private everConnected = false;
  private lastError: string | undefined;
  private warnedDrop = false;
  private published = 0;
  private dropped = 0;
  private closing: Promise<void> | undefined;

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
      this.subscribed = false;
      this.refreshStatus();
    });
    this.pub.on('error', (error: unknown) => this.noteError('publisher', error));
    this.sub.on('error', (error: unknown) => this.noteError('subscriber', error));
    this.sub.on('message', (_channel: string, json: string) => {
      if (this.closing) return;
      const { event } = this.dispatcher.admit(json);
      if (event) this.dispatcher.deliver(event);
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
    this.outbox.push({ family: EVENT_FAMILY[event.type], json: JSON.stringify(event) });
    return event;
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
    // Give what is queued (typically a final agent:left) a bounded chance to leave.
    await this.outbox.flush(DEFAULTS.closeFlushTimeoutMs);
    this.outbox.stop();
    this.dispatcher.clear();
    this.subGeneration += 1;
    this.pubReady = false;
    this.subscribed = false;
    this.setStatus('disconnected');
    this.listeners.clear();
    await Promise.all([closeConnection(this.pub), closeConnection(this.sub)]);
  }

  private resubscribe(): void {
    const generation = ++this.subGeneration;
    this.sub.subscribe(this.channel).then(
      () => {
        if (generation !== this.subGeneration || this.closing) return;
        this.subscribed = true;
        this.refreshStatus();
      },
      (error: unknown) => this.noteError('subscriber', error),
    );
  }

  private refreshStatus(): void {
    this.setStatus(!this.closing && this.pubReady && this.subscribed ? 'connected' : 'disconnected');
  }

  private setStatus(next: BusStatus): void {
    const previous = this.current;
    if (next === previous) return;
    this.current = next;
    const buffered = this.stats().buffered;
    if (next === 'connected') {
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
