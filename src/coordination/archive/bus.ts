/**
 * The bus with the durable record attached: every event published here is queued for
 * PostgreSQL at publish time (so events published while Redis is down are archived too), and
 * `replay` with a `since` reads PostgreSQL as well as the capped stream.
 *
 * Each event is written once across coordinators: only the publishing coordinator writes it (and
 * the insert ignores an id already there, so a resent batch changes nothing). Events received
 * from other coordinators are theirs to write.
 */
import { checkSignature } from '../events.js';
import type {
  BusStats,
  BusStatus,
  CoordinationEvent,
  EventBus,
  EventInput,
  ReplayOptions,
} from '../types.js';
import type { Logger } from '../../shared/logger.js';
import type { Archive } from './types.js';

/** How long a replay waits for a PostgreSQL that is still connecting (a one-shot `events`). */
export const ARCHIVE_REPLAY_WAIT_MS = 3_000;

/** Without a shared stream and without `since`: the most recent events, as many as a stream keeps. */
const NO_STREAM_REPLAY_LIMIT = 10_000;

export class ArchivedBus implements EventBus {
  constructor(
    private readonly bus: EventBus,
    private readonly archive: Archive,
    private readonly options: { secret?: string; logger: Logger },
  ) {}

  get status(): BusStatus {
    return this.bus.status;
  }

  publish(input: EventInput): CoordinationEvent {
    const event = this.bus.publish(input);
    this.archive.record({ kind: 'event', event });
    return event;
  }

  subscribe(handler: (event: CoordinationEvent) => void, typeGlob?: string): () => void {
    return this.bus.subscribe(handler, typeGlob);
  }

  /**
   * Without `since`: the stream (recent history). With it: PostgreSQL merged with the stream (the
   * stream has what is not written yet), each event once, oldest first. When PostgreSQL cannot
   * answer, the stream alone, with a warning.
   */
  async replay(options: ReplayOptions = {}): Promise<CoordinationEvent[]> {
    if (!options.since?.trim()) {
      if (this.bus.status !== 'disabled') return this.bus.replay(options);
      // No shared stream (embedded bus): the record holds every coordinator's recent events.
      options = { ...options, limit: options.limit ?? NO_STREAM_REPLAY_LIMIT };
    }
    const [recent, archived] = await Promise.all([
      this.bus.replay(options).catch((error: unknown) => ({ error })),
      this.readArchive(options),
    ]);
    if (archived === undefined) {
      if ('error' in recent) throw recent.error;
      return recent;
    }
    const merged = new Map<string, CoordinationEvent>();
    for (const event of archived) merged.set(event.id, event);
    if (!('error' in recent)) for (const event of recent) merged.set(event.id, event);
    const all = [...merged.values()].sort(
      (a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    if (options.limit === undefined) return all;
    // With `since`, the first matches; without it, the most recent (the replay contract).
    return options.since?.trim()
      ? all.slice(0, options.limit)
      : all.slice(Math.max(0, all.length - options.limit));
  }

  onStatus(listener: (status: BusStatus, previous: BusStatus) => void): () => void {
    return this.bus.onStatus?.(listener) ?? (() => {});
  }

  stats(): BusStats {
    return this.bus.stats();
  }

  close(): Promise<void> {
    return this.bus.close();
  }

  private async readArchive(options: ReplayOptions): Promise<CoordinationEvent[] | undefined> {
    if (!(await this.archive.ready(ARCHIVE_REPLAY_WAIT_MS))) {
      this.options.logger.warn('postgres not reachable; replaying from the stream only');
      return undefined;
    }
    try {
      const events = await this.archive.replay(options);
      const secret = this.options.secret;
      return secret === undefined ? events : events.filter((e) => checkSignature(e, secret) === 'ok');
    } catch (error) {
      this.options.logger.warn('cannot read events from postgres; replaying from the stream only', { error });
      return undefined;
    }
  }
}
