/**
 * Process plumbing for the bench: peak RSS from /proc, a sweep of every descendant we started,
 * bounded waits, temp dirs that are removed at the end.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects with TimeoutError after `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Peak resident set size (VmHWM) of one process, in MB; undefined when unreadable. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ns) a process has run so far, all its threads: the first field of each
 * /proc/<pid>/task/<tid>/schedstat. Undefined when /proc does not say.
 */
export function cpuNs(pid: number): number | undefined {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that just ended
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, …), from /proc. */
export function descendants(root: number = process.pid): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}

/** SIGTERM every descendant of this process, then SIGKILL what is left after `graceMs`. Returns what it found. */
export async function killDescendants(graceMs = 1500): Promise<string[]> {
  // tsx's esbuild service is ours too, but it ends with us; a bench child it is not.
  const first = descendants().filter((pid) => !commandLine(pid).includes('esbuild --service'));
  const found = first.map((pid) => `${pid} ${commandLine(pid)}`);
  for (const pid of first) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const alive = () => first.filter((pid) => existsSync(`/proc/${pid}`));
  while (Date.now() < deadline && alive().length > 0) await sleep(50);
  const left = alive();
  for (const pid of left) signal(pid, 'SIGKILL');
  return found;
}

/** Polls a loopback TCP port until it accepts, `alive()` turns false, or the timeout passes. */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`process exited before listening on port ${port}`);
    if (Date.now() > deadline) throw new TimeoutError(`waiting for port ${port}`, timeoutMs);
    await sleep(10);
  }
}

/** Drains a stream (so a chatty child never blocks on a full pipe) and keeps its last bytes. */
export function tailOf(stream: Readable | null | undefined, maxChars = 4000): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer | string) => {
    text = (text + chunk.toString()).slice(-maxChars);
  });
  stream?.on('error', () => {});
  return () => text.trim();
}

const tempDirs: string[] = [];

/** A fresh temp dir (so no cache survives between launches), removed by `removeTempDirs()`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mcp-bench-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The last line of a child's stderr that looks like an error, for a one-line reason. */
export function lastErrorLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const err = [...lines].reverse().find((l) => /error|cannot|not found|ERR_/i.test(l));
  return (err ?? lines.at(-1) ?? '').trim().slice(0, 200);
}

/**
 * Stops a child and everything it started: SIGTERM, SIGKILL after `graceMs`, then SIGKILL for
 * whatever of its family (listed before the first signal) is still alive.
 */
export async function stopTree(child: ChildProcess, graceMs = 3000): Promise<void> {
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => (alive() ? child.once('exit', () => resolve()) : resolve()));
  const family = alive() ? descendants(child.pid!) : [];
  for (const [sig, wait] of [
    ['SIGTERM', graceMs],
    ['SIGKILL', 1000],
  ] as const) {
    if (!alive()) break;
    child.kill(sig);
    await Promise.race([exited, sleep(wait)]);
  }
  for (const pid of family.filter((p) => existsSync(`/proc/${p}`))) signal(pid, 'SIGKILL');
}
