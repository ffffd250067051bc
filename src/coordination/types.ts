/**
 * Names and shapes of coordination events, fixed by CONTRACT.md, and the bus interface that the
 * memory and Redis backends both honour.
 */
export const EVENT_TYPES = [
  'file:locked',
  'file:unlocked',
  'file:lock_expired',
  'task:created',
  'task:claimed',
  'task:progress',
  'task:completed',
  'task:released',
  'health:degraded',
  'health:recovered',
  'server:registered',
  'tools:changed',
  'agent:registered',
  'agent:status_changed',
  'agent:left',
  'state:changed',
  'cache:invalidate',
  'access:denied',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Family channel suffix per event type: `<prefix>events:<family>`. */
export const EVENT_FAMILY: Record<
  EventType,
  'file-locks' | 'tasks' | 'health' | 'agents' | 'servers' | 'state' | 'cache' | 'access'
> = {
  'file:locked': 'file-locks',
  'file:unlocked': 'file-locks',
  'file:lock_expired': 'file-locks',
  'task:created': 'tasks',
  'task:claimed': 'tasks',
  'task:progress': 'tasks',
  'task:completed': 'tasks',
  'task:released': 'tasks',
  'health:degraded': 'health',
  'health:recovered': 'health',
  'server:registered': 'servers',
  'tools:changed': 'servers',
  'agent:registered': 'agents',
  'agent:status_changed': 'agents',
  'agent:left': 'agents',
  'state:changed': 'state',
  'cache:invalidate': 'cache',
  'access:denied': 'access',
};

export interface CoordinationEvent {
  id: string;
  type: EventType;
  /** The coordinator instance (or library client) that published it. */
  source: string;
  agentId: string;
  data: Record<string, unknown>;
  /** ISO-8601. */
  timestamp: string;
  /** HMAC-SHA256, hex, when coordination.secret is set. */
  signature?: string;
}

export type EventInput = Pick<CoordinationEvent, 'type' | 'data'> & { agentId?: string };

export type BusStatus = 'connected' | 'disconnected' | 'disabled';

export interface BusStats {
  published: number;
  delivered: number;
  /** Events dropped because the offline buffer was full. */
  dropped: number;
  /** Incoming events rejected: unsigned, forged or replayed. */
  rejected: number;
  buffered: number;
}

export interface ReplayOptions {
  /** A stream id, or an ISO time / epoch ms: events after it. */
  since?: string;
  /** Glob over event types, e.g. `file:*`. */
  type?: string;
  limit?: number;
}

export interface EventBus {
  /** Never waits on the network: builds the event, queues or sends it, returns it. */
  publish(input: EventInput): CoordinationEvent;
  /** Live events whose type matches the glob (default `*`). Returns an unsubscribe function. */
  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void;
  /** Past events, oldest first, from the stream (Redis) or the ring buffer (memory). */
  replay(options?: ReplayOptions): Promise<CoordinationEvent[]>;
  readonly status: BusStatus;
  /**
   * Called on every status change (health, a buffer flusher); returns an unsubscribe function.
   * Optional so hand-written test doubles need not implement it; both real backends do.
   */
  onStatus?(listener: (status: BusStatus, previous: BusStatus) => void): () => void;
  stats(): BusStats;
  close(): Promise<void>;
}

/** Coordination uses the project's one clock (epoch ms, unref'd timers). */
export { systemClock, type Clock } from '../shared/clock.js';
