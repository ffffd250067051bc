/**
 * The upstream end of stdio: an SDK `Transport` over this process's stdin and stdout, the same
 * contract as the SDK's StdioServerTransport, framed by `json-lines` (no zod pass before the
 * Protocol's own, one stdout write per event-loop turn however many replies it carries).
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { LineReader, LineWriter, parseMessage } from './json-lines.js';

export class StdioServerTransport implements Transport {
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  onmessage?: Transport['onmessage'];

  private readonly reader = new LineReader();
  private readonly writer: LineWriter;
  private started = false;
  private closed = false;

  constructor(
    private readonly stdin: Readable = process.stdin,
    // stdout is the protocol, and this is its writer.
    // eslint-disable-next-line no-restricted-properties
    stdout: Writable = process.stdout,
  ) {
    this.writer = new LineWriter(stdout, () => new Error('stdout is closed'));
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
      // A line over the limit: the framing is lost, end the session.
      this.onerror?.(error as Error);
      void this.close();
    }
  };

  private readonly onLine = (line: string): void => {
    let message: JSONRPCMessage;
    try {
      message = parseMessage(line);
    } catch (error) {
      // Malformed input is reported and skipped; the session goes on.
      this.onerror?.(error as Error);
      return;
    }
    this.onmessage?.(message);
  };

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };
}
