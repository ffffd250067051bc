/**
 * Newline-delimited JSON-RPC framing for both stdio ends (the upstream client on our stdin/stdout,
 * each downstream child on its pipes). Replaces the SDK's `ReadBuffer`/`serializeMessage` on the
 * hot path, for two measured reasons:
 *
 * - `ReadBuffer.readMessage` runs `JSONRPCMessageSchema.parse` (zod, a deep copy) on every
 *   message, and the SDK's Protocol then classifies the same message again with the request /
 *   response / notification schemas before using it. The second pass is the one that decides, so
 *   the first is pure cost: here a message gets `JSON.parse` and a structural envelope check, and
 *   anything the check lets through is still validated by the Protocol (an invalid message is
 *   reported there as "Unknown message type").
 * - `ReadBuffer.append` concatenates the whole pending buffer with every chunk (quadratic for a
 *   large catalog page); pending chunks are kept in a list here and joined once per line.
 *
 * `LineWriter` coalesces every message produced in one turn of the event loop into one write: with
 * many calls in flight, one pipe write (one syscall, one wake-up of the peer) carries them all.
 */
import type { Writable } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

/**
 * A result that is sent many times unchanged (a catalog page) can carry its own JSON under this
 * key, non-enumerable so nothing else sees it: `LineWriter` then writes that text instead of
 * serializing the object again. Set it with `withRawJson` on an object that is never mutated.
 */
export const RAW_JSON: unique symbol = Symbol('mcp-coordinator raw JSON');

export function withRawJson<T extends object>(value: T): T {
  return Object.defineProperty(value, RAW_JSON, { value: JSON.stringify(value) });
}

/**
 * Largest message read from a downstream's stdout: the SDK's own client limit, so the coordinator
 * accepts from a server what any client of it would.
 */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/**
 * Largest message read from the coordinator's own client (stdin), in line with what clients
 * accept; no config key (the contract names none), a constant here.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Bytes of each end of an over-size line kept, to find its id and its kind. */
const EDGE_BYTES = 4 * 1024;

const NEWLINE = 0x0a;

/** A line dropped for its size: its first and last bytes, and how long it was. */
export interface OversizeLine {
  head: string;
  tail: string;
  bytes: number;
}

/**
 * Splits a byte stream into lines; a partial line waits for the chunk that completes it. A line
 * over the limit is not kept: its first and last few KB are, the rest is counted and dropped,
 * and `onOversize` hears of it when it ends. What is held never exceeds the limit.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The over-size line being skipped, if any. */
  private skipping: { head: Buffer; tail: Buffer; bytes: number } | undefined;
  /** Bumped by clear(), so a push interrupted by it delivers nothing more. */
  private epoch = 0;

  constructor(
    readonly maxLineBytes: number = MAX_LINE_BYTES,
    private readonly onOversize: (line: OversizeLine) => void = () => {},
  ) {}

  /** Calls `onLine` for every line `chunk` completes (and `onOversize` for one too long), in order. */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    const epoch = this.epoch;
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    while (end !== -1) {
      if (this.skipping || this.pendingBytes + end - start > this.maxLineBytes) {
        this.skip(chunk, start, end);
        const { head, tail, bytes } = this.skipping!;
        this.skipping = undefined;
        this.onOversize({ head: head.toString('utf8'), tail: tail.toString('utf8'), bytes });
      } else if (this.pendingBytes > 0) {
        this.pending.push(chunk.subarray(start, end));
        const line = Buffer.concat(this.pending, this.pendingBytes + end - start).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
        onLine(line);
      } else if (end > start) {
        onLine(chunk.toString('utf8', start, end));
      }
      if (epoch !== this.epoch) return;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (start >= chunk.length) return;
    if (this.skipping || this.pendingBytes + chunk.length - start > this.maxLineBytes) {
      this.skip(chunk, start, chunk.length);
      return;
    }
    this.pending.push(start === 0 ? chunk : chunk.subarray(start));
    this.pendingBytes += chunk.length - start;
  }

  /** Bytes held for the line in progress. */
  get bufferedBytes(): number {
    return this.pendingBytes + (this.skipping ? this.skipping.head.length + this.skipping.tail.length : 0);
  }

  clear(): void {
    this.epoch++;
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = undefined;
  }

  /** Adds `chunk[from, to)` to the over-size line, starting it from what is pending if need be. */
  private skip(chunk: Buffer, from: number, to: number): void {
    const part = chunk.subarray(from, to);
    if (!this.skipping) {
      const whole = Buffer.concat([...this.pending, part]);
      this.skipping = {
        head: Buffer.from(whole.subarray(0, EDGE_BYTES)),
        tail: Buffer.from(whole.subarray(-EDGE_BYTES)),
        bytes: whole.length,
      };
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const skipping = this.skipping;
    skipping.bytes += part.length;
    if (skipping.head.length < EDGE_BYTES) {
      skipping.head = Buffer.from(
        Buffer.concat([skipping.head, part.subarray(0, EDGE_BYTES - skipping.head.length)]),
      );
    }
    skipping.tail =
      part.length >= EDGE_BYTES
        ? Buffer.from(part.subarray(part.length - EDGE_BYTES))
        : Buffer.concat([skipping.tail, part]).subarray(-EDGE_BYTES);
  }
}

/** JSON-RPC's codes for input that is not JSON, or JSON that is not a valid message. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INTERNAL_ERROR = -32603;

export type MessageId = string | number;

/**
 * Thrown for a line that is not JSON (`code` -32700), or JSON that is not a JSON-RPC 2.0 message
 * (-32600); `id` is the message's id when it had a usable one, for the error reply. `response`:
 * it meant to answer something (a `result` or `error`, no `method`): JSON-RPC never answers those,
 * and an error carrying its id would fail the peer's own request of that id.
 */
export class FramingError extends Error {
  constructor(
    readonly code: typeof PARSE_ERROR | typeof INVALID_REQUEST,
    message: string,
    readonly id: MessageId | null = null,
    options?: { cause?: unknown },
    readonly response = false,
  ) {
    super(message, options);
  }
}

/**
 * One line → one message. The check is the envelope only (version, an id of the right type, and
 * a method, a result or an error); the SDK's Protocol validates the message fully when it
 * classifies it.
 */
export function parseMessage(line: string): JSONRPCMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new FramingError(PARSE_ERROR, `not JSON: ${preview(line)}`, null, { cause: error });
  }
  if (!isEnvelope(value)) {
    const m = isObject(value) ? (value as Record<string, unknown>) : {};
    const response = !('method' in m) && ('result' in m || 'error' in m);
    throw new FramingError(
      INVALID_REQUEST,
      `not a JSON-RPC 2.0 message: ${preview(line)}`,
      isId(m.id) ? m.id : null,
      undefined,
      response,
    );
  }
  return value;
}

function isEnvelope(value: unknown): value is JSONRPCMessage {
  if (!isObject(value)) return false;
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return false;
  if (typeof m.method === 'string')
    return (!('id' in m) || isId(m.id)) && (m.params === undefined || isObject(m.params));
  if ('result' in m) return isId(m.id) && isObject(m.result);
  if ('error' in m) return (isId(m.id) || m.id === null || !('id' in m)) && isObject(m.error);
  return false;
}

const isId = (v: unknown): v is MessageId =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** `JSON.stringify(message)`, except for a response whose result carries its own JSON. */
function serialize(message: JSONRPCMessage): string {
  const { result, id } = message as { result?: { [RAW_JSON]?: string }; id?: unknown };
  const raw = result?.[RAW_JSON];
  // A response is exactly { jsonrpc, id, result }: anything more and the object is serialized as is.
  if (raw === undefined || Object.keys(message).length !== 3) return JSON.stringify(message);
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${raw}}`;
}

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

function preview(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
}

/** The largest line a writer sends, and what goes instead of a larger one. */
export interface OutgoingLimit {
  bytes: number;
  /**
   * A message to send in its place, or undefined to send nothing (the write still resolves: a
   * rejected notification would be an unhandled rejection for many a caller).
   */
  tooLarge(message: JSONRPCMessage, bytes: number): JSONRPCMessage | undefined;
}

/**
 * Writes one JSON line per message, coalescing the messages of one event-loop turn into a single
 * `write`. `write()` resolves once its batch was handed to the stream (after 'drain' when the
 * stream pushes back), and rejects when the stream is no longer writable at flush time.
 */
export class LineWriter {
  private lines: string[] = [];
  private batch: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  private drained: Promise<void> | undefined;

  constructor(
    private readonly stream: Writable,
    /** The error a write gets when the stream is gone. */
    private readonly closedError: () => Error,
    private readonly limit?: OutgoingLimit,
  ) {}

  write(message: JSONRPCMessage): Promise<void> {
    let line = serialize(message);
    // A UTF-16 unit is at most 3 bytes of UTF-8: only a long line needs counting. The reader's
    // buffer holds the newline too.
    if (this.limit && line.length * 3 >= this.limit.bytes) {
      const bytes = Buffer.byteLength(line);
      if (bytes >= this.limit.bytes) {
        const instead = this.limit.tooLarge(message, bytes);
        if (instead === undefined) return Promise.resolve();
        line = serialize(instead);
      }
    }
    this.lines.push(line);
    if (this.batch) return this.batch.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.batch = { promise, resolve, reject };
    // After the current callback and every microtask it started: all replies of one chunk of
    // requests go out together, and a lone message waits for nothing but the current tick.
    process.nextTick(() => this.flush());
    return promise;
  }

  private flush(): void {
    const batch = this.batch!;
    const lines = this.lines;
    this.batch = undefined;
    this.lines = [];
    const { stream } = this;
    if (!stream.writable) {
      batch.reject(this.closedError());
      return;
    }
    const data = lines.length === 1 ? `${lines[0]}\n` : `${lines.join('\n')}\n`;
    if (stream.write(data)) {
      batch.resolve();
      return;
    }
    // Backpressure: one shared wait for 'drain' (or the stream closing) instead of a listener per batch.
    this.drained ??= new Promise<void>((done) => {
      const settle = () => {
        stream.off('drain', settle).off('close', settle);
        this.drained = undefined;
        done();
      };
      stream.on('drain', settle).on('close', settle);
    });
    void this.drained.then(batch.resolve);
  }
}
