/**
 * A child's stderr, split into lines with bounded memory. `readline` keeps a line until its end
 * arrives, so a server that writes hundreds of MB without a newline grew the coordinator until
 * `RangeError: Invalid string length` ended it, and every other server with it.
 *
 * Here a line ends at `\n`, `\r\n` or a lone `\r` (progress bars redraw with `\r`), and at most
 * `maxLineBytes` of it are kept: the head is passed on at once, marked as cut, and the rest is only
 * counted — one notice says how much was dropped once the line ends (or the stream does). What this
 * splitter holds is therefore never more than one line's cap, whatever the child writes.
 */

/** Longest stderr line passed on; the rest of a longer line is counted and dropped. */
export const MAX_STDERR_LINE_BYTES = 8 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export class StderrLines {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current line dropped after its head was passed on; -1 when not cutting. */
  private dropped = -1;
  /** The previous chunk ended in `\r`: a `\n` opening this one belongs to it. */
  private afterCr = false;

  constructor(
    private readonly emit: (line: string) => void,
    readonly maxLineBytes: number = MAX_STDERR_LINE_BYTES,
  ) {}

  /** Bytes held for the line in progress (never more than `maxLineBytes`). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.afterCr && chunk[0] === LF) start = 1;
    this.afterCr = false;
    while (start < chunk.length) {
      const end = nextBreak(chunk, start);
      if (end === -1) {
        this.append(chunk, start, chunk.length);
        return;
      }
      this.append(chunk, start, end);
      this.endLine();
      start = end + 1;
      if (chunk[end] === CR) {
        if (start === chunk.length) this.afterCr = true;
        else if (chunk[start] === LF) start++;
      }
    }
  }

  /** The stream ended: what is left is a last line. */
  end(): void {
    this.endLine();
  }

  private append(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.dropped >= 0) {
      this.dropped += to - from;
      return;
    }
    const room = this.maxLineBytes - this.pendingBytes;
    if (to - from <= room) {
      // Copied: a view would keep the whole chunk alive for a few bytes of it.
      this.pending.push(Buffer.from(chunk.subarray(from, to)));
      this.pendingBytes += to - from;
      return;
    }
    this.pending.push(chunk.subarray(from, from + room));
    const head = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = to - from - room;
    this.emit(`${head} … [line cut at ${this.maxLineBytes} bytes]`);
  }

  private endLine(): void {
    if (this.dropped >= 0) {
      const dropped = this.dropped;
      this.dropped = -1;
      this.emit(`(${dropped} more bytes of that stderr line dropped)`);
      return;
    }
    if (this.pendingBytes === 0) return;
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.emit(line);
  }
}

/** The index of the next `\n` or `\r` at or after `from`, or -1. */
function nextBreak(chunk: Buffer, from: number): number {
  const lf = chunk.indexOf(LF, from);
  // Most output has no \r at all: look for one only up to the \n found.
  const cr = chunk.subarray(from, lf === -1 ? chunk.length : lf).indexOf(CR);
  return cr === -1 ? lf : from + cr;
}
