/**
 * The embedded bus: no Redis, one process. Subscribers get events on a microtask (a publisher
 * is never re-entered by its own subscribers), and a ring buffer keeps the recent history that
 * `replay` and `mcp-coordinator events` read.
 */
import { silentLogger, type Logger } from '../../shared/logger.js';
import { EventIdGenerator, createEvent } from '../events.js';
import type {
  BusStats,
  BusStatus,
  CoordinationEvent,
  EventBus,
  EventInput,
  ReplayOptions,
} from '../types.js';
import { Dispatcher, type IngestVerdict } from './dispatch.js';
import { planReplay, selectFromHistory } from './replay.js';
import { RingBuffer } from './ring.js';

export const DEFAULT_HISTORY_CAPACITY = 10_000;

export interface MemoryBusOptions {
  source: string;
  agentId: string;
  secret?: string;
  clock?: () => number;
  logger?: Logger;
  /** Events kept for replay. */
  capacity?: number;
}

export class MemoryBus implements EventBus {
  /** There is no Redis; health shows it as `redis: "disabled"`. */
  readonly status: BusStatus = 'disabled';
  private readonly clock: () => number;
  private readonly ids = new EventIdGenerator();
  private readonly dispatcher: Dispatcher;
  private readonly history: RingBuffer<CoordinationEvent>;
  private pending: CoordinationEvent[] = [];
  private published = 0;
  private dropped = 0;
  private closed = false;

  constructor(private readonly options: MemoryBusOptions) {
    this.clock = options.clock ?? Date.now;
    this.history = new RingBuffer(options.capacity ?? DEFAULT_HISTORY_CAPACITY);
    this.dispatcher = new Dispatcher({
      secret: options.secret,
      clock: this.clock,
      logger: (options.logger ?? silentLogger).child('bus'),
    });
  }

  publish(input: EventInput): CoordinationEvent {
    let event = createEvent(input, {
      source: this.options.source,
      agentId: this.options.agentId,
      clock: this.clock,
      ids: this.ids,
      secret: this.options.secret,
    });
    // What a Redis subscriber would get: a copy fixed at publish time (later mutation by the
    // caller changes nothing) with JSON's value rules (Dates as strings, undefined dropped).
    event = JSON.parse(JSON.stringify(event)) as CoordinationEvent;
    if (this.closed) {
      this.dropped += 1;
      return event;
    }
    this.published += 1;
    this.history.push(event);
    this.enqueue(event);
    return event;
  }

  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void {
    return this.dispatcher.subscribe(handler, typeGlob);
  }

  /**
   * An event from outside this process (a library client bridging one in): verified like a
   * Redis message, then recorded and delivered.
   */
  ingest(json: string): IngestVerdict {
    const { verdict, event } = this.dispatcher.admit(json);
    if (event && !this.closed) {
      this.history.push(event);
      this.enqueue(event);
    }
    return verdict;
  }

  async replay(options?: ReplayOptions): Promise<CoordinationEvent[]> {
    return selectFromHistory(this.history.toArray(), planReplay(options));
  }

  /** The status never changes; present so callers can treat both backends alike. */
  onStatus(_listener: (status: BusStatus, previous: BusStatus) => void): () => void {
    return () => {};
  }

  stats(): BusStats {
    return {
      published: this.published,
      delivered: this.dispatcher.delivered,
      dropped: this.dropped,
      rejected: this.dispatcher.rejected,
      buffered: 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending = [];
    this.dispatcher.clear();
  }

  private enqueue(event: CoordinationEvent): void {
    this.pending.push(event);
    if (this.pending.length > 1) return; // a drain is already scheduled
    queueMicrotask(() => {
      const batch = this.pending;
      this.pending = [];
      for (const e of batch) this.dispatcher.deliver(e);
    });
  }
}
