/**
 * The page's one live connection: the coordination events, or the log lines while the logs tab is
 * shown. A dropped stream comes back with exponential backoff (0.5 s … 15 s) and resumes after the
 * last id it delivered (`?since=`), so nothing is missed and nothing arrives twice.
 */
import { stats } from './stats.js';

export type StreamKind = 'events' | 'logs';
export type StreamState = 'connecting' | 'open' | 'retrying';

const PATHS: Record<StreamKind, string> = { events: '/api/events/stream', logs: '/api/logs/stream' };

export class LiveStream {
  private source: EventSource | undefined;
  private kind: StreamKind | undefined;
  private readonly lastId: Record<StreamKind, string | undefined> = { events: undefined, logs: undefined };
  private readonly listeners: Record<StreamKind, Array<(item: unknown) => void>> = { events: [], logs: [] };
  private attempt = 0;
  private timer: number | undefined;
  state: StreamState = 'connecting';
  onState: (state: StreamState) => void = () => {};
  /** The session ended (EventSource cannot tell a 401 from a network error: asked after two failures). */
  onSignedOut: () => void = () => {};

  on(kind: StreamKind, listener: (item: unknown) => void): void {
    this.listeners[kind].push(listener);
  }

  /** Where to resume `kind` from (the logs tab sets it after loading the recent lines). */
  resumeAfter(kind: StreamKind, id: string): void {
    this.lastId[kind] = id;
  }

  hasCursor(kind: StreamKind): boolean {
    return this.lastId[kind] !== undefined;
  }

  /** Switch the one connection to `kind` (a no-op when it already is). */
  use(kind: StreamKind): void {
    if (this.kind === kind && this.source) return;
    this.kind = kind;
    this.attempt = 0;
    this.connect();
  }

  close(): void {
    window.clearTimeout(this.timer);
    this.source?.close();
    this.source = undefined;
    this.kind = undefined;
  }

  private connect(): void {
    window.clearTimeout(this.timer);
    this.source?.close();
    const kind = this.kind;
    if (!kind) return;
    const since = this.lastId[kind];
    const url = since === undefined ? PATHS[kind] : `${PATHS[kind]}?since=${encodeURIComponent(since)}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    this.setState('connecting');
    source.onopen = () => {
      this.attempt = 0;
      this.setState('open');
    };
    source.onmessage = (message: MessageEvent<string>) => {
      if (message.lastEventId) this.lastId[kind] = message.lastEventId;
      stats[kind] += 1;
      let item: unknown;
      try {
        item = JSON.parse(message.data);
      } catch {
        return;
      }
      for (const listener of this.listeners[kind]) listener(item);
    };
    source.onerror = () => {
      // The browser's own retry has no backoff and gives up on a refusal: ours does both right.
      source.close();
      if (this.source !== source) return;
      this.source = undefined;
      this.setState('retrying');
      const delay = Math.min(15_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      if (this.attempt >= 2) void this.checkSession();
      this.timer = window.setTimeout(() => this.connect(), delay);
    };
  }

  private async checkSession(): Promise<void> {
    try {
      const session = (await (await fetch('/ui/session', { credentials: 'same-origin' })).json()) as {
        signedIn?: boolean;
      };
      if (session.signedIn === false) this.onSignedOut();
    } catch {
      // the coordinator is away: keep retrying
    }
  }

  private setState(state: StreamState): void {
    this.state = state;
    this.onState(state);
  }
}
