/**
 * The upstream end of stdio: an SDK `Transport` over this process's stdin and stdout, the same
 * contract as the SDK's StdioServerTransport, framed by `json-lines` (no zod pass before the
 * Protocol's own, one stdout write per event-loop turn however many replies it carries).
 *
 * Bad input never ends the session, and never goes unanswered: a line that is not JSON gets a
 * -32700 reply, JSON that is not a JSON-RPC message a -32600 one, and a message over
 * `maxMessageBytes` (default `MAX_REQUEST_BYTES`, 4 MB) is dropped unread — with an -32600 reply
 * naming the limit if it was a request, or, if it was the client's answer to one of our requests,
 * as an error response to that request. Only EOF (or close()) ends it.
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import {
  FramingError,
  INTERNAL_ERROR,
  INVALID_REQUEST,
  LineReader,
  LineWriter,
  MAX_LINE_BYTES,
  MAX_REQUEST_BYTES,
  type MessageId,
  type OversizeLine,
  parseMessage,
} from './json-lines.js';
import { describeOversize, formatBytes } from './oversize.js';

export class StdioServerTransport implements Transport {
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  onmessage?: Transport['onmessage'];

  private readonly reader: LineReader;
  private readonly writer: LineWriter;
  private started = false;
  private closed = false;

  constructor(
    private readonly stdin: Readable = process.stdin,
    // stdout is the protocol, and this is its writer.
    // eslint-disable-next-line no-restricted-properties
    stdout: Writable = process.stdout,
    maxMessageBytes: number = MAX_REQUEST_BYTES,
    /**
     * Largest message written (default `MAX_LINE_BYTES`, the SDK client's read buffer: a client
     * given more closes the whole session, e.g. an `aggregate` of several large results).
     */
    private readonly maxReplyBytes: number = MAX_LINE_BYTES,
  ) {
    this.reader = new LineReader(maxMessageBytes, this.onOversize);
    this.writer = new LineWriter(stdout, () => new Error('stdout is closed'), {
      bytes: maxReplyBytes,
      tooLarge: (message, bytes) => this.tooLarge(message, bytes),
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('StdioServerTransport already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    try {
      return this.writer.write(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    // Pause only when nobody else reads stdin (as the SDK's transport does).
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.reader.clear();
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.reader.push(chunk, this.onLine);
    } catch (error) {
      // A throwing handler loses the rest of this chunk, not the session.
      this.onerror?.(error as Error);
    }
  };

  private readonly onLine = (line: string): void => {
    let message: JSONRPCMessage;
    try {
      message = parseMessage(line);
    } catch (error) {
      // Malformed input is answered, reported and skipped; the session goes on.
      if (error instanceof FramingError && !error.response)
        this.replyError(error.id, error.code, error.message);
      this.onerror?.(error as Error);
      return;
    }
    this.onmessage?.(message);
  };

  private readonly onOversize = (line: OversizeLine): void => {
    const { id, kind, bytes } = describeOversize(line);
    const limit = this.reader.maxLineBytes;
    const text = `message of ${bytes} bytes exceeds the ${formatBytes(limit)} limit (${limit} bytes); it was not read`;
    this.onerror?.(new Error(`dropped a ${kind === 'unknown' ? 'message' : kind} from the client: ${text}`));
    if (kind === 'response' && id !== null) {
      // Our own request's answer: fail that request now instead of leaving it to time out.
      this.onmessage?.({
        jsonrpc: '2.0',
        id,
        error: { code: INVALID_REQUEST, message: `Response too large: ${text}` },
      });
      return;
    }
    this.replyError(id, INVALID_REQUEST, `Request too large: ${text}`);
  };

  /** A reply over the limit becomes an error naming it; anything else over it is not sent. */
  private tooLarge(message: JSONRPCMessage, bytes: number): JSONRPCMessage | undefined {
    const limit = this.maxReplyBytes;
    const text = `message of ${bytes} bytes exceeds the ${formatBytes(limit)} limit a client reads (${limit} bytes); it was not sent`;
    const m = message as { id?: MessageId; result?: unknown; error?: unknown };
    if (m.id !== undefined && (m.result !== undefined || m.error !== undefined)) {
      this.onerror?.(new Error(`replaced a response to the client: ${text}`));
      return {
        jsonrpc: '2.0',
        id: m.id,
        error: { code: INTERNAL_ERROR, message: `Response too large: ${text}` },
      };
    }
    // A notification is lost; a request of ours goes unanswered until its own timeout.
    this.onerror?.(new Error(`dropped a message to the client: ${text}`));
    return undefined;
  }

  /** An error reply written straight to the client (id null when the request's id is unknown). */
  private replyError(id: MessageId | null, code: number, message: string): void {
    if (this.closed) return;
    // JSON-RPC answers what it cannot attribute with `id: null`; the SDK's type has no room for it.
    const reply = { jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage;
    this.writer.write(reply).catch(() => {});
  }

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };
}
