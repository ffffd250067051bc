/**
 * The soak's books: every call's outcome by target and error kind, its latency, and which
 * failures are expected (any call to the crashing server; a shared-store call while Redis is
 * down or reconnecting). Everything else failing fails the run.
 */

/** What a call was aimed at: a steady server of either era, the crashing one, or the shared store. */
export type Target = 'steady' | 'modern' | 'crashy' | 'lock';

/** After a Redis restart, how long a shared-store error still counts as the restart's. */
export const REDIS_RECONNECT_GRACE_MS = 10_000;

export class Tally {
  ok = 0;
  readonly latenciesMs: number[] = [];
  /** `<target>: <kind>` → count, for failures that are expected. */
  readonly expected = new Map<string, number>();
  /** The same for failures that fail the run, with one example message each. */
  readonly unexpected = new Map<string, { count: number; example: string }>();
  readonly okByTarget = new Map<Target, number>();
  /** Lock grants while another client still held the file (must stay 0). */
  doubleGrants = 0;
  lockRefusals = 0;
  /** [down, back up] of each Redis outage; `up` unset while it is down. */
  private readonly outages: Array<{ down: number; up?: number }> = [];

  redisDown(): void {
    this.outages.push({ down: Date.now() });
  }

  redisUp(): void {
    const last = this.outages.at(-1);
    if (last) last.up = Date.now();
  }

  get calls(): number {
    let failed = 0;
    for (const n of this.expected.values()) failed += n;
    for (const { count } of this.unexpected.values()) failed += count;
    return this.ok + failed;
  }

  succeeded(target: Target, startedAt: number): void {
    this.ok++;
    this.okByTarget.set(target, (this.okByTarget.get(target) ?? 0) + 1);
    this.latenciesMs.push(performance.now() - startedAt);
  }

  failed(target: Target, message: string, at: number): void {
    const key = `${target}: ${errorKind(message)}`;
    const redisOutage = target === 'lock' && /shared store|redis/i.test(message) && this.inOutage(at);
    if (target === 'crashy' || redisOutage) {
      this.expected.set(key, (this.expected.get(key) ?? 0) + 1);
      return;
    }
    const entry = this.unexpected.get(key) ?? { count: 0, example: message.slice(0, 200) };
    entry.count++;
    this.unexpected.set(key, entry);
  }

  private inOutage(at: number): boolean {
    return this.outages.some((o) => at >= o.down && at <= (o.up ?? Infinity) + REDIS_RECONNECT_GRACE_MS);
  }
}

/** A short name for an error: the MCP code, or what kind of transport failure. */
export function errorKind(message: string): string {
  if (/shared store unreachable/i.test(message)) return 'shared store unreachable';
  if (/timed? ?out/i.test(message)) return 'timeout';
  if (/closed|crashed|exited|not running|unavailable|restarting|crash-loop/i.test(message))
    return 'server down/closed';
  const code = /MCP error (-?\d+)/.exec(message)?.[1];
  if (code) return `MCP error ${code}`;
  if (message.startsWith('isError')) return 'isError result';
  return 'other';
}

/** The p-th percentile (0..100) of unsorted values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
