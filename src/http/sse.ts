/**
 * Server-Sent Events on a node:http response, with replay and without loss or duplicates:
 *
 * 1. subscribe first, and buffer what arrives;
 * 2. replay everything after the client's last id (`Last-Event-ID`, or `?since=`);
 * 3. send the replay, then the buffered items the replay did not already contain, then go live.
 * An item published while the replay is read is therefore either in the replay or in the buffer
 * (or both: it is sent once). The ids of the replay are kept a while longer (10 s): with the Redis
 * bus the replay reads the stream on one connection and live items come over pub/sub on another,
 * so a replayed item's live copy may arrive after the buffer is flushed; it is dropped then too.
 *
 * A reader that does not keep up is dropped, never buffered without bound: once `res.write` says
 * the socket is full, frames queue; past `maxQueued` frames the response is destroyed (the client
 * reconnects with its Last-Event-ID and replays what it missed). A `: heartbeat` comment every
 * `heartbeatMs` keeps proxies from closing an idle stream. Everything — the subscription, the
 * timer — is released when the connection closes, whichever side closes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_QUEUED = 1_000;
/** How long a replayed item's live copy is still expected (and dropped) after the replay. */
const REPLAYED_IDS_MS = 10_000;

export interface SseOptions<T> {
  /** Comment frames this often (default 15 s; 0 = none). */
  heartbeatMs?: number;
  /** Replay after this id; undefined: live only. */
  lastEventId: string | undefined;
  /** Items after `since`, oldest first. May throw (a malformed id): nothing is sent then. */
  replay(since: string): Promise<T[]>;
  /** Live items; returns the unsubscribe function. */
  subscribe(listener: (item: T) => void): () => void;
  idOf(item: T): string;
  /** The frame's `data:` (default JSON; must hold no newline). */
  serialize?(item: T): string;
  /** Frames waiting for a full socket (and items arriving during the replay) before the client is dropped. */
  maxQueued?: number;
  /** The stream ended: `closed` by the client or the server, `dropped` for a slow reader. */
  onEnd?(reason: 'closed' | 'dropped'): void;
}

export interface SseStream {
  /** Items sent so far (replayed and live). */
  readonly sent: number;
  /** Resolves when the stream has ended, for whatever reason. */
  readonly ended: Promise<'closed' | 'dropped'>;
  close(): void;
}

/**
 * Opens the stream: resolves once the headers, the replay and the buffered items are written.
 * Rejects (nothing written, nothing left subscribed) when `replay` throws, so the caller can
 * still answer with an error status.
 */
export async function openSse<T>(
  req: IncomingMessage,
  res: ServerResponse,
  options: SseOptions<T>,
): Promise<SseStream> {
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const serialize = options.serialize ?? ((item: T) => JSON.stringify(item));
  let buffered: T[] | undefined = [];
  /** Ids of the replay whose live copy has not arrived yet; dropped after REPLAYED_IDS_MS. */
  let replayedIds: Set<string> | undefined;
  let forgetReplayed: NodeJS.Timeout | undefined;
  let overflowed = false;
  let ended = false;
  let sent = 0;
  const queue: string[] = [];
  let waitingForDrain = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let resolveEnded!: (reason: 'closed' | 'dropped') => void;
  const endedPromise = new Promise<'closed' | 'dropped'>((resolve) => (resolveEnded = resolve));

  const end = (reason: 'closed' | 'dropped') => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearInterval(heartbeat);
    clearTimeout(forgetReplayed);
    replayedIds = undefined;
    res.off('drain', onDrain);
    queue.length = 0;
    buffered = undefined;
    if (reason === 'dropped') res.destroy();
    else if (!res.writableEnded) res.end();
    options.onEnd?.(reason);
    resolveEnded(reason);
  };

  const write = (frame: string) => {
    if (ended) return;
    if (waitingForDrain) {
      if (queue.length >= maxQueued) return end('dropped');
      queue.push(frame);
      return;
    }
    if (!res.write(frame)) {
      waitingForDrain = true;
      res.once('drain', onDrain);
    }
  };

  function onDrain() {
    waitingForDrain = false;
    while (queue.length > 0 && !ended) {
      if (!res.write(queue.shift()!)) {
        waitingForDrain = true;
        res.once('drain', onDrain);
        return;
      }
    }
  }

  const send = (item: T) => {
    sent += 1;
    write(`id: ${options.idOf(item)}\ndata: ${serialize(item)}\n\n`);
  };

  // 1. Subscribe first: nothing published from now on can be missed.
  const unsubscribe = options.subscribe((item) => {
    if (ended) return;
    // A replayed item's live copy can arrive after the replay (the Redis bus reads its stream on
    // one connection and gets pub/sub messages on another): sent once, forgotten on arrival.
    if (!buffered) return replayedIds?.delete(options.idOf(item)) ? undefined : send(item);
    if (buffered.length >= maxQueued) overflowed = true;
    else buffered.push(item);
  });
  // The response's close, not the request's: a request whose (empty) body was read may emit
  // 'close' long before the client goes away.
  const onClose = () => end('closed');
  res.once('close', onClose);

  // 2. Replay after the client's id.
  let replayed: T[] = [];
  try {
    if (options.lastEventId !== undefined) replayed = await options.replay(options.lastEventId);
  } catch (error) {
    ended = true;
    unsubscribe();
    res.off('close', onClose);
    throw error;
  }
  if (ended) return stream();
  if (overflowed) {
    // More arrived during the replay than one client may hold: it reconnects and replays.
    end('dropped');
    return stream();
  }

  // 3. Headers, replay, then what arrived meanwhile and is not in the replay; then live.
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  write(': stream open\n\n');
  const seen = new Set<string>();
  for (const item of replayed) {
    seen.add(options.idOf(item));
    send(item);
  }
  const pending = buffered ?? [];
  buffered = undefined;
  for (const item of pending) if (!seen.delete(options.idOf(item))) send(item);
  if (seen.size > 0 && !ended) {
    replayedIds = seen;
    forgetReplayed = setTimeout(() => (replayedIds = undefined), REPLAYED_IDS_MS);
    forgetReplayed.unref();
  }

  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  if (heartbeatMs > 0 && !ended) {
    heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
  }
  return stream();

  function stream(): SseStream {
    return {
      get sent() {
        return sent;
      },
      ended: endedPromise,
      close: () => end('closed'),
    };
  }
}
