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

/** The SDK's default for its stdio transports: a line longer than this ends the session. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;

/** Splits a byte stream into lines; a partial line waits for the chunk that completes it. */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bumped by clear(), so a push interrupted by it delivers nothing more. */
  private epoch = 0;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

  /**
   * Calls `onLine` for every line `chunk` completes, in order. Throws (and drops what was
   * pending) when a line grows beyond the limit: the framing is lost, the caller ends the session.
   */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    const epoch = this.epoch;
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (end !== -1 && this.pendingBytes > 0) {
      this.pending.push(chunk.subarray(0, end));
      const line = Buffer.concat(this.pending, this.pendingBytes + end).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
      onLine(line);
      if (epoch !== this.epoch) return;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    while (end !== -1) {
      if (end > start) onLine(chunk.toString('utf8', start, end));
      if (epoch !== this.epoch) return;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (start >= chunk.length) return;
    const rest = chunk.length - start;
    if (this.pendingBytes + rest > this.maxLineBytes) {
      this.clear();
      throw new Error(`a message on the pipe exceeded ${this.maxLineBytes} bytes`);
    }
    this.pending.push(start === 0 ? chunk : chunk.subarray(start));
    this.pendingBytes += rest;
  }

  clear(): void {
    this.epoch++;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Thrown for a line that is not JSON, or JSON that is not a JSON-RPC 2.0 message. */
export class FramingError extends Error {}

/**
 * One line → one message. The check is the envelope only (version, and a method, a result or an
 * error); the SDK's Protocol validates the message fully when it classifies it.
 */
export function parseMessage(line: string): JSONRPCMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new FramingError(`not JSON: ${preview(line)}`, { cause: error });
  }
  if (!isEnvelope(value)) throw new FramingError(`not a JSON-RPC 2.0 message: ${preview(line)}`);
  return value;
}

function isEnvelope(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return false;
  if (typeof m.method === 'string') return m.params === undefined || isObject(m.params);
  if ('result' in m) return isObject(m.result);
  if ('error' in m) return isObject(m.error);
  return false;
}

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
  ) {}

  write(message: JSONRPCMessage): Promise<void> {
    this.lines.push(serialize(message));
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
