/**
 * The receiving half shared by both backends: local subscriptions filtered by type glob, and the
 * gate an incoming event passes (parse, then signature/freshness when a secret is set).
 */
import type { Logger } from '../../shared/logger.js';
import {
  DEFAULT_MAX_EVENT_AGE_MS,
  checkSignature,
  compileTypeGlob,
  createSeenIds,
  parseEvent,
  verifyEvent,
  type EventVerdict,
  type SeenIds,
} from '../events.js';
import type { CoordinationEvent } from '../types.js';

export type IngestVerdict = EventVerdict | 'malformed';

interface Subscription {
  handler: (event: CoordinationEvent) => void;
  matches: (type: string) => boolean;
  active: boolean;
}

export interface DispatcherOptions {
  secret?: string;
  clock: () => number;
  logger: Logger;
  maxAgeMs?: number;
}

export class Dispatcher {
  delivered = 0;
  rejected = 0;
  private subscriptions: Subscription[] = [];
  /** Replay protection, made on the first event checked under a secret (100,000 ids: ~13 ms, ~3 MB). */
  private seenIds: SeenIds | undefined;
  private readonly warned = new Set<IngestVerdict>();

  constructor(private readonly options: DispatcherOptions) {}

  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void {
    const sub: Subscription = { handler, matches: compileTypeGlob(typeGlob), active: true };
    // Copy on write: a handler that subscribes or unsubscribes mid-delivery does not disturb the
    // loop that is calling it.
    this.subscriptions = [...this.subscriptions, sub];
    return () => {
      if (!sub.active) return;
      sub.active = false;
      this.subscriptions = this.subscriptions.filter((s) => s !== sub);
    };
  }

  /** Hands an accepted event to every matching handler; one throwing handler does not stop the rest. */
  deliver(event: CoordinationEvent): void {
    this.delivered += 1;
    for (const sub of this.subscriptions) {
      if (!sub.active || !sub.matches(event.type)) continue;
      try {
        sub.handler(event);
      } catch (error) {
        this.options.logger.error('event handler threw', { type: event.type, id: event.id, error });
      }
    }
  }

  /**
   * An event as it arrived from outside this process: parsed, verified when a secret is set,
   * counted when rejected. The caller delivers an accepted event (it may record it first).
   */
  admit(json: string): { verdict: IngestVerdict; event?: CoordinationEvent } {
    const parsed = parseEvent(json);
    if (!parsed) {
      this.reject('malformed');
      return { verdict: 'malformed' };
    }
    if (this.options.secret !== undefined) {
      const verdict = verifyEvent(
        parsed.raw,
        this.options.secret,
        this.options.clock(),
        this.options.maxAgeMs ?? DEFAULT_MAX_EVENT_AGE_MS,
        (this.seenIds ??= createSeenIds()),
      );
      if (verdict !== 'ok') {
        this.reject(verdict);
        return { verdict };
      }
    }
    return { verdict: 'ok', event: parsed.event };
  }

  /**
   * An event read back from history (stream or ring buffer): old by nature, so only its
   * signature is checked. Undefined when it is rejected.
   */
  decodeStored(json: string): CoordinationEvent | undefined {
    const parsed = parseEvent(json);
    if (!parsed) {
      this.reject('malformed');
      return undefined;
    }
    if (this.options.secret !== undefined) {
      const verdict = checkSignature(parsed.raw, this.options.secret);
      if (verdict !== 'ok') {
        this.reject(verdict);
        return undefined;
      }
    }
    return parsed.event;
  }

  clear(): void {
    for (const sub of this.subscriptions) sub.active = false;
    this.subscriptions = [];
  }

  private reject(verdict: IngestVerdict): void {
    this.rejected += 1;
    // Loud once per kind (a misconfigured peer shows up), quiet after (a flood cannot fill stderr).
    const fields = { verdict, rejectedSoFar: this.rejected };
    if (this.warned.has(verdict)) this.options.logger.debug('dropped an incoming event', fields);
    else this.options.logger.warn('dropped an incoming event', fields);
    this.warned.add(verdict);
  }
}
