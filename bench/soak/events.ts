/**
 * The soak's event follower (`--http` mode): `GET /api/events/stream?type=file:*` held open for the
 * whole run, dropped and reopened with `Last-Event-ID` every `reconnectEveryMs` (and after any
 * error, a Redis restart's 503 included), as an EventSource would. Every frame is kept by id, so
 * what arrived twice and what never arrived can be counted against what the clients were granted.
 */
import { sleep } from '../procs.js';

export interface LockEvent {
  id: string;
  type: string;
  agentId: string;
  data: { file?: string; holder?: string; acquiredAt?: string; releasedAt?: string; expiresAt?: string };
}

export interface EventFollower {
  /** Distinct events received, by id (first arrival). */
  readonly events: Map<string, LockEvent>;
  /** Frames whose id had already arrived. */
  readonly duplicates: number;
  /** Streams opened (the first one included) and attempts refused or failed. */
  readonly connects: number;
  readonly failedConnects: number;
  /** Resolves once the first stream is open (subscribed), so nothing published after it is missed. */
  readonly ready: Promise<void>;
  /** One more reconnect (replaying after the last id), then stop. */
  stop(): Promise<void>;
}

export function followEvents(url: string, key: string, reconnectEveryMs: number): EventFollower {
  const events = new Map<string, LockEvent>();
  let lastId: string | undefined;
  const startedAt = Date.now();
  let stopping = false;
  let current: AbortController | undefined;
  let markReady!: () => void;
  const state = {
    events,
    duplicates: 0,
    connects: 0,
    failedConnects: 0,
    ready: new Promise<void>((resolve) => (markReady = resolve)),
  };

  /** One stream: open, read frames until aborted or ended. Returns whether it opened. */
  const once = async (maxMs: number): Promise<boolean> => {
    const abort = new AbortController();
    current = abort;
    const timer = setTimeout(() => abort.abort(), maxMs);
    try {
      // The first stream replays from the follower's start, so a reconnect before any event loses none.
      const query = `type=${encodeURIComponent('file:*')}${lastId === undefined ? `&since=${startedAt}` : ''}`;
      const response = await fetch(`${url}/api/events/stream?${query}`, {
        headers: { authorization: `Bearer ${key}`, ...(lastId !== undefined && { 'last-event-id': lastId }) },
        signal: abort.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        return false;
      }
      state.connects++;
      markReady();
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      return true;
    } catch {
      return state.connects > 0 && abort.signal.aborted;
    } finally {
      clearTimeout(timer);
    }
  };

  const frame = (text: string) => {
    let id: string | undefined;
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (id === undefined || data === '') return;
    lastId = id;
    if (events.has(id)) state.duplicates++;
    else events.set(id, JSON.parse(data) as LockEvent);
  };

  const loop = (async () => {
    while (!stopping) {
      if (!(await once(reconnectEveryMs))) {
        state.failedConnects++;
        await sleep(250);
      }
    }
  })();

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    current?.abort();
    await loop;
    // The last word: whatever was published after the last frame, replayed once.
    for (let attempt = 0; attempt < 20 && !(await once(2_000)); attempt++) await sleep(250);
  };
  return Object.assign(state, { stop: () => (stopped ??= stop()) });
}

/** A lock the clients were granted or released, as `holder|file|acquiredAt` / `holder|file|releasedAt`. */
export interface LockLedger {
  granted: string[];
  released: string[];
}

export interface EventCheck {
  /** Our agents' file:locked / file:unlocked / file:lock_expired events received (distinct). */
  locked: number;
  unlocked: number;
  expired: number;
  duplicates: number;
  /** Grants / releases the clients saw with no event for them. */
  missingLocked: string[];
  missingUnlocked: string[];
  /** Two agents holding one file at once, by the events' own intervals. */
  overlaps: string[];
}

/** Checks the events of `agents` against the clients' ledger. */
export function checkEvents(
  follower: EventFollower,
  agents: ReadonlySet<string>,
  ledger: LockLedger,
): EventCheck {
  const ours = [...follower.events.values()].filter((e) => agents.has(e.data.holder ?? e.agentId));
  const keyOf = (e: LockEvent, at: string | undefined) => `${e.data.holder}|${e.data.file}|${at}`;
  const locked = new Set(
    ours.filter((e) => e.type === 'file:locked').map((e) => keyOf(e, e.data.acquiredAt)),
  );
  const unlocked = new Set(
    ours.filter((e) => e.type === 'file:unlocked').map((e) => keyOf(e, e.data.releasedAt)),
  );
  // Each grant's interval: acquired → released (unlocked), else its latest expiresAt.
  const intervals = new Map<
    string,
    { file: string; holder: string; from: number; until: number; released?: number }
  >();
  for (const e of ours) {
    const { file, holder, acquiredAt } = e.data;
    if (file === undefined || holder === undefined || acquiredAt === undefined) continue;
    const key = `${holder}|${file}|${acquiredAt}`;
    const grant = intervals.get(key) ?? { file, holder, from: Date.parse(acquiredAt), until: 0 };
    intervals.set(key, grant);
    if (e.type === 'file:unlocked' && e.data.releasedAt) grant.released = Date.parse(e.data.releasedAt);
    else if (e.data.expiresAt) grant.until = Math.max(grant.until, Date.parse(e.data.expiresAt));
  }
  const overlaps: string[] = [];
  const byFile = new Map<string, Array<{ holder: string; from: number; to: number }>>();
  for (const g of intervals.values()) {
    const list = byFile.get(g.file) ?? [];
    byFile.set(g.file, list);
    list.push({ holder: g.holder, from: g.from, to: g.released ?? g.until });
  }
  for (const [file, list] of byFile) {
    list.sort((a, b) => a.from - b.from);
    let holding = list[0];
    for (const cur of list.slice(1)) {
      if (holding && holding.holder !== cur.holder && cur.from < holding.to)
        overlaps.push(
          `${file}: ${cur.holder} at ${new Date(cur.from).toISOString()} while ${holding.holder} held it`,
        );
      if (!holding || cur.to > holding.to) holding = cur;
    }
  }
  return {
    locked: locked.size,
    unlocked: unlocked.size,
    expired: ours.filter((e) => e.type === 'file:lock_expired').length,
    duplicates: follower.duplicates,
    missingLocked: ledger.granted.filter((k) => !locked.has(k)),
    missingUnlocked: ledger.released.filter((k) => !unlocked.has(k)),
    overlaps,
  };
}
