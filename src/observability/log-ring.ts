/**
 * The recent log lines of this coordinator and of every downstream's stderr, for `/api/logs` and
 * its live stream. Bounded twice: at most `maxLines` lines and about `maxBytes` of message text
 * (the oldest go first), so a chatty server cannot grow the process.
 *
 * Ids are consecutive integers (1, 2, 3 …), so the line after id N is found without a search and a
 * stream reader resumes with `since=N`. Every message passes `redact` before it is stored: the ring
 * never holds a secret, whoever reads it.
 */
import { redact } from '../shared/redact.js';

export type LogLineLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLineLevel[] = ['debug', 'info', 'warn', 'error'];

const RANK: Record<LogLineLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogLine {
  /** Monotonic, consecutive, from 1. */
  id: number;
  /** ISO-8601. */
  time: string;
  /** `coordinator`, `coordinator/<scope>` or `server:<id>`. */
  source: string;
  level: LogLineLevel;
  message: string;
}

export interface LogQuery {
  /** Exact source, or a prefix ending in `*` (`server:*`, `coordinator*`). */
  source?: string;
  /** Minimum level. */
  level?: LogLineLevel;
  /** With `since`: the first `limit` lines after it; without: the last `limit` lines. */
  limit?: number;
  /** Lines with an id greater than this. */
  since?: number;
}

export interface LogRingOptions {
  maxLines?: number;
  maxBytes?: number;
  /** Longer messages are cut (and marked) before they are stored. */
  maxMessageBytes?: number;
  clock?: () => number;
}

export const DEFAULT_LOG_LINES = 5_000;
export const DEFAULT_LOG_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LOG_MESSAGE_BYTES = 8 * 1024;

export type LogListener = (line: LogLine) => void;

/** Whether a line matches a query's source and level (the live stream filters with it too). */
export function logLineMatcher(query: Pick<LogQuery, 'source' | 'level'>): (line: LogLine) => boolean {
  const minimum = query.level === undefined ? 0 : RANK[query.level];
  const source = query.source;
  if (source === undefined || source === '' || source === '*') return (line) => RANK[line.level] >= minimum;
  if (source.endsWith('*')) {
    const prefix = source.slice(0, -1);
    return (line) => RANK[line.level] >= minimum && line.source.startsWith(prefix);
  }
  return (line) => RANK[line.level] >= minimum && line.source === source;
}

export function isLogLevel(value: string): value is LogLineLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * The level of a downstream's stderr line. Servers log in every format, so only the obvious is
 * trusted: a line whose first words say `error`/`fatal`/`panic`/`exception` (any case, in brackets
 * or followed by `:`) is `error`, one that says `warn`/`warning` is `warn`; everything else —
 * including many servers' ordinary start-up chatter — is `info`.
 */
export function stderrLevel(line: string): LogLineLevel {
  const head = line.slice(0, 48);
  if (/\b(error|err|fatal|panic|critical|exception|traceback)\b/i.test(head)) return 'error';
  if (/\b(warn|warning)\b/i.test(head)) return 'warn';
  return 'info';
}

export class LogRing {
  readonly maxLines: number;
  readonly maxBytes: number;
  private readonly maxMessageBytes: number;
  private readonly clock: () => number;
  private readonly items: Array<LogLine | undefined>;
  private readonly sizes: number[];
  private head = 0;
  private count = 0;
  private bytes = 0;
  private nextId = 1;
  private readonly counts = new Map<string, number>();
  private listeners: Array<{ fn: LogListener }> = [];

  constructor(options: LogRingOptions = {}) {
    this.maxLines = options.maxLines ?? DEFAULT_LOG_LINES;
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LOG_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxLines) || this.maxLines < 1) {
      throw new RangeError(`log ring maxLines must be a positive integer, got ${this.maxLines}`);
    }
    this.clock = options.clock ?? Date.now;
    this.items = new Array<LogLine | undefined>(this.maxLines);
    this.sizes = new Array<number>(this.maxLines).fill(0);
  }

  /** Lines held now. */
  get size(): number {
    return this.count;
  }

  /** Bytes of message text held now (UTF-8). */
  get byteSize(): number {
    return this.bytes;
  }

  /** Live listeners (tests check that closed streams leave none behind). */
  get listenerCount(): number {
    return this.listeners.length;
  }

  /** The id the next line will get (the newest line's id is one less). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Stores one line (redacted, cut to `maxMessageBytes`) and tells every listener. */
  push(source: string, level: LogLineLevel, message: string): LogLine {
    let text = redact(message);
    let size = Buffer.byteLength(text);
    if (size > this.maxMessageBytes) {
      text = `${Buffer.from(text).subarray(0, this.maxMessageBytes).toString()} … [cut, ${size} bytes]`;
      size = Buffer.byteLength(text);
    }
    const line: LogLine = {
      id: this.nextId++,
      time: new Date(this.clock()).toISOString(),
      source,
      level,
      message: text,
    };
    while (this.count > 0 && (this.count >= this.maxLines || this.bytes + size > this.maxBytes)) this.evict();
    const tail = (this.head + this.count) % this.maxLines;
    this.items[tail] = line;
    this.sizes[tail] = size;
    this.count += 1;
    this.bytes += size;
    this.counts.set(source, (this.counts.get(source) ?? 0) + 1);
    for (const listener of this.listeners) {
      try {
        listener.fn(line);
      } catch {
        // A listener's failure is its own (a closed stream); it must not stop the others or the logger.
      }
    }
    return line;
  }

  /** Matching lines, oldest first. */
  query(query: LogQuery = {}): LogLine[] {
    const matches = logLineMatcher(query);
    const oldestId = this.nextId - this.count;
    const start =
      query.since === undefined ? 0 : Math.max(0, Math.min(this.count, query.since + 1 - oldestId));
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const out: LogLine[] = [];
    if (limit <= 0) return out;
    if (query.since === undefined && limit !== Number.POSITIVE_INFINITY) {
      // The last `limit` matches: walk back from the newest.
      for (let i = this.count - 1; i >= 0 && out.length < limit; i--) {
        const line = this.at(i);
        if (matches(line)) out.push(line);
      }
      return out.reverse();
    }
    for (let i = start; i < this.count && out.length < limit; i++) {
      const line = this.at(i);
      if (matches(line)) out.push(line);
    }
    return out;
  }

  /** Every source present in the ring with its number of lines, by name. */
  sources(): Array<{ source: string; count: number }> {
    return [...this.counts]
      .map(([source, count]) => ({ source, count }))
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Called with every new line (synchronously, from `push`); returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    // Copy on write: a listener that unsubscribes during a push does not disturb the loop.
    const entry = { fn: listener };
    this.listeners = [...this.listeners, entry];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== entry);
    };
  }

  private at(index: number): LogLine {
    return this.items[(this.head + index) % this.maxLines]!;
  }

  private evict(): void {
    const line = this.items[this.head]!;
    this.bytes -= this.sizes[this.head]!;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.maxLines;
    this.count -= 1;
    const left = (this.counts.get(line.source) ?? 1) - 1;
    if (left <= 0) this.counts.delete(line.source);
    else this.counts.set(line.source, left);
  }
}
