/**
 * Whether the endpoint answers, as the person running the IDE sees it: one stderr line when it
 * stops answering and one when it answers again, however many requests notice in between.
 */
export class Link {
  private status: 'connected' | 'unreachable' | 'closed' = 'connected';

  constructor(
    private readonly url: string,
    private readonly say: (line: string) => void,
  ) {}

  unreachable(): void {
    if (this.status !== 'connected') return;
    this.status = 'unreachable';
    this.say(`connect: coordinator at ${this.url} unreachable, retrying…`);
  }

  /** An answer came through. */
  reached(): void {
    if (this.status !== 'unreachable') return;
    this.status = 'connected';
    this.say(`connect: reconnected to ${this.url}`);
  }

  /** A lost session was opened again: said even if no request had found the endpoint down. */
  reopened(): void {
    if (this.status === 'closed') return;
    this.status = 'connected';
    this.say(`connect: reconnected to ${this.url}`);
  }

  close(): void {
    this.status = 'closed';
  }
}
