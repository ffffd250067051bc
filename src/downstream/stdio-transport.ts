/**
 * An SDK `Transport` over a spawned child: stdout is the protocol (newline-delimited JSON-RPC,
 * framed by `shared/json-lines`), stderr is forwarded line by line (`stderr-lines`: each line capped,
 * so no output can grow the coordinator's memory).
 *
 * Differences from the SDK's StdioClientTransport, and why:
 * - the child is `detached`, so it leads its own process group: shutting down kills the group,
 *   grandchildren included (npx → node, shells, language servers …), and the group is recorded in
 *   `ChildGroups` so an abrupt coordinator exit can still SIGKILL it synchronously;
 * - a spawn failure (missing command, bad cwd) rejects `start()` at once with a message naming the
 *   command, instead of surfacing as a bare ENOENT later;
 * - an unexpected exit is reported through `onerror` (with code/signal) before `onclose`, so the
 *   supervisor can say why the server went away;
 * - env is a minimal inherited set (`child-env`), what the server's `inheritEnv` names, and its
 *   configured env on top: the coordinator's own secrets (REDIS_URL, MCP_EVENTS_SECRET, keys)
 *   never reach a child unless named;
 * - the child can be spawned ahead of the session (`prespawn()`), so its runtime boots while the
 *   upstream client is still handshaking; `start()` then only attaches the session to it;
 * - framing is `json-lines` (no second zod pass, one write per event-loop turn), not `ReadBuffer`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/client';
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { TransportFailureError } from '../shared/errors.js';
import {
  INVALID_REQUEST,
  LineReader,
  LineWriter,
  MAX_LINE_BYTES,
  type OversizeLine,
  parseMessage,
} from '../shared/json-lines.js';
import { describeOversize, formatBytes } from '../shared/oversize.js';
import { type ChildGroups, groupAlive, signalGroup } from './child-groups.js';
import { childEnvironment, type InheritEnv } from './child-env.js';
import { StderrLines } from './stderr-lines.js';

/** How long each step of the shutdown may take; the sum stays under the 5 s promise. */
export interface StdioTimings {
  /** After closing stdin (MCP's polite shutdown for stdio), before SIGTERM. */
  graceMs: number;
  /** After SIGTERM to the group, before SIGKILL. */
  termMs: number;
  /** After SIGKILL, the longest we wait to see the leader reaped. */
  killWaitMs: number;
  pollMs: number;
}

export const DEFAULT_STDIO_TIMINGS: StdioTimings = {
  graceMs: 1_500,
  termMs: 1_500,
  killWaitMs: 1_000,
  pollMs: 50,
};

/** Stdout a prespawned child may write before its session starts; then the pipe is paused. */
const MAX_HELD_STDOUT_BYTES = 1024 * 1024;

export interface StdioTransportOptions {
  serverId: string;
  command: string;
  args: readonly string[];
  /** Laid over the inherited environment; the config's value wins. */
  env: Readonly<Record<string, string>>;
  /** What the child inherits beyond the minimal set (`child-env`): names, or `all`. */
  inheritEnv?: InheritEnv | undefined;
  /** The environment inherited from (default `process.env`). */
  parentEnv?: Readonly<Record<string, string | undefined>>;
  /** Passed to spawn as is; the config loader resolves it against the config file. */
  cwd?: string | undefined;
  onStderrLine: (line: string) => void;
  /** Largest message read from the child's stdout (default `MAX_LINE_BYTES`, the SDK client's 10 MB). */
  maxMessageBytes?: number;
  /** Longest stderr line passed on (default `MAX_STDERR_LINE_BYTES`, 8 KB). */
  maxStderrLineBytes?: number;
  groups: ChildGroups;
  timings?: Partial<StdioTimings>;
}

export class ChildProcessTransport implements Transport {
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  onmessage?: Transport['onmessage'];

  private readonly timings: StdioTimings;
  private readonly reader: LineReader;
  private writer: LineWriter | undefined;
  private child: ChildProcess | undefined;
  /** The spawn, begun by prespawn() or start(); settles once the child runs or failed to. */
  private spawning: Promise<void> | undefined;
  /** Set by start(): from then on stdout is delivered to `onmessage`. */
  private started = false;
  /** Stdout that arrived before start(): delivered when the session starts. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private exited = false;
  /** Why the child went away on its own, for a start() that comes after it. */
  private exitFailure: TransportFailureError | undefined;
  private readonly exit: Promise<void>;
  private markExited!: () => void;
  private closeRequested = false;
  private closeNotified = false;
  /** The one teardown: started by close(), or by an unexpected exit to reap the rest of the group. */
  private teardownDone: Promise<void> | undefined;

  constructor(private readonly options: StdioTransportOptions) {
    this.timings = { ...DEFAULT_STDIO_TIMINGS, ...options.timings };
    this.reader = new LineReader(options.maxMessageBytes ?? MAX_LINE_BYTES, (line) => this.onOversize(line));
    this.exit = new Promise((resolve) => (this.markExited = resolve));
  }

  /** The child's pid (and process group id) once spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * The child's stderr (read here, line by line). With `pid`, what tells the SDK's era
   * negotiation this is a stdio transport, on which a probe left unanswered means a legacy server
   * (one still starting, or one that ignores unknown methods) rather than a failed connection.
   */
  get stderr(): Readable | null {
    return this.child?.stderr ?? null;
  }

  /**
   * Spawns the child without starting the session: nothing is sent to it until start(). Resolves
   * once it runs; rejects like start() would (the same failure is given to start() later).
   */
  prespawn(): Promise<void> {
    if (this.closeRequested) return Promise.reject(this.failure('closed', 'transport closed before start'));
    this.spawning ??= this.spawnChild();
    return this.spawning;
  }

  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error(`${this.options.serverId}: transport already started`));
    if (this.closeRequested) return Promise.reject(this.failure('closed', 'transport closed before start'));
    this.started = true;
    const early = this.spawning !== undefined;
    this.spawning ??= this.spawnChild();
    if (!early) return this.spawning;
    return this.spawning.then(() => {
      // Prespawned: it may have died meanwhile (its exit was reported to nobody yet).
      if (this.exited) throw this.exitFailure ?? this.failure('closed', 'exited before the session started');
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const chunk of held) this.onStdout(chunk);
      this.child?.stdout?.resume();
    });
  }

  private spawnChild(): Promise<void> {
    const { command, args, cwd } = this.options;
    const env = childEnvironment(
      this.options.parentEnv ?? process.env,
      this.options.env,
      this.options.inheritEnv,
    );
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(command, [...args], {
          cwd,
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
          detached: true,
          windowsHide: true,
        });
      } catch (error) {
        this.exited = true;
        this.markExited();
        reject(this.spawnFailure(error));
        return;
      }
      this.child = child;
      this.writer = new LineWriter(child.stdin!, () => this.failure('closed', 'not connected'));
      if (child.pid !== undefined) this.options.groups.add(child.pid);
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
      child.on('error', (error) => {
        if (spawned) return this.onerror?.(error);
        const failure = this.spawnFailure(error);
        this.exited = true;
        this.exitFailure = failure;
        this.markExited();
        reject(failure);
        this.onerror?.(failure);
        this.notifyClosed();
      });
      child.once('exit', (code, signal) => this.onExit(code, signal));
      // 'close' waits for the pipes: after it, no message can still arrive.
      child.once('close', () => this.notifyClosed());
      this.wireStreams(child);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!this.writer || !stdin?.writable || this.exited) {
      return Promise.reject(this.failure('closed', 'not connected'));
    }
    try {
      return this.writer.write(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Ends the session; resolves once the child is reaped and its group signalled away (≤ ~4 s). */
  close(): Promise<void> {
    this.closeRequested = true;
    this.teardownDone ??= this.teardown(true);
    return this.teardownDone;
  }

  private wireStreams(child: ChildProcess): void {
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    // A child that dies mid-write makes these fail with EPIPE/ECONNRESET: report, never throw.
    child.stdin?.on('error', (error) => this.onerror?.(error));
    child.stdout?.on('error', (error) => this.onerror?.(error));
    if (child.stderr) {
      child.stderr.on('error', () => {});
      const lines = new StderrLines((line) => {
        try {
          this.options.onStderrLine(line);
        } catch {
          // A failing sink must not take the connection down.
        }
      }, this.options.maxStderrLineBytes);
      child.stderr.on('data', (chunk: Buffer) => lines.push(chunk));
      child.stderr.once('end', () => lines.end());
    }
  }

  private onStdout(chunk: Buffer): void {
    if (!this.started) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      // Nobody reads yet: past a bound, let the pipe push back on the child instead of buffering.
      if (this.heldBytes >= MAX_HELD_STDOUT_BYTES) this.child?.stdout?.pause();
      return;
    }
    try {
      this.reader.push(chunk, (line) => this.onLine(line));
    } catch (error) {
      // A throwing handler loses the rest of this chunk, not the session.
      this.onerror?.(error as Error);
    }
  }

  /**
   * A message over the limit was dropped unread. The session goes on: the request it answered
   * fails now with an error naming the limit (instead of timing out), and a request from the
   * child gets an error reply.
   */
  private onOversize(line: OversizeLine): void {
    const { id, kind, bytes } = describeOversize(line);
    const limit = this.reader.maxLineBytes;
    const text = `${this.options.serverId}: message of ${bytes} bytes on stdout exceeds the ${formatBytes(limit)} limit (${limit} bytes); it was not read`;
    this.onerror?.(new Error(text));
    if (id === null) return;
    const error = { code: INVALID_REQUEST, message: text };
    if (kind === 'request') this.writer?.write({ jsonrpc: '2.0', id, error }).catch(() => {});
    else this.deliver({ jsonrpc: '2.0', id, error });
  }

  private onLine(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = parseMessage(line);
    } catch (error) {
      // A server printing logs on stdout: skip the line, keep going.
      this.onerror?.(
        new Error(`${this.options.serverId}: ignored a non-JSON-RPC line on stdout`, { cause: error }),
      );
      return;
    }
    this.deliver(message);
  }

  /**
   * The SDK's Protocol handles a notification some microtasks late (a promise chain) but a response
   * at once, so a progress notification read in the same chunk as its request's response would be
   * handled after the response (and dropped as "unknown token"). After a notification, what follows
   * waits for the next turn of the event loop: the order on the wire is the order handled.
   */
  private afterNotification: JSONRPCMessage[] | undefined;

  /** Hands over what waited behind a notification; a throwing handler costs that message only. */
  private releaseHeld(): void {
    const waiting = this.afterNotification ?? [];
    this.afterNotification = undefined;
    for (const next of waiting) {
      try {
        this.deliver(next);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    }
  }

  private deliver(message: JSONRPCMessage): void {
    if (this.afterNotification) {
      this.afterNotification.push(message);
      return;
    }
    this.onmessage?.(message);
    if ('method' in message && !('id' in message)) {
      this.afterNotification = [];
      setImmediate(() => this.releaseHeld());
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.markExited();
    if (this.closeRequested) return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.exitFailure = this.failure('crashed', `process ${how}`);
    this.onerror?.(this.exitFailure);
    // Its grandchildren may live on in the group: reap them now rather than at the next stop.
    this.teardownDone ??= this.teardown(false);
  }

  private async teardown(graceful: boolean): Promise<void> {
    const child = this.child;
    const pgid = child?.pid;
    if (!child || pgid === undefined) {
      if (child) await this.exit;
      this.notifyClosed();
      return;
    }
    const { graceMs, termMs, killWaitMs } = this.timings;
    if (graceful && !this.exited) {
      child.stdin?.end();
      await this.exitWithin(graceMs);
    }
    // Address the group even when the leader is gone: that is where grandchildren hide.
    if (signalGroup(pgid, 'SIGTERM')) {
      await this.until(() => this.exited && !groupAlive(pgid), termMs);
      if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    }
    await this.exitWithin(killWaitMs);
    this.options.groups.delete(pgid);
    // A process outside the group may still hold our pipes; do not wait on it for 'close'.
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.notifyClosed();
  }

  private notifyClosed(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    // A response read before the end waits behind a notification: it still counts.
    while (this.afterNotification) this.releaseHeld();
    this.reader.clear();
    this.held = [];
    this.heldBytes = 0;
    this.onclose?.();
  }

  /**
   * The child's exit, or `ms` elapsed, whichever comes first. The timer is cleared on exit: a
   * pending one would hold the event loop, and a one-shot command would sit it out before exiting.
   */
  private async exitWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  private delay(ms: number): Promise<void> {
    // Not unref'd: a shutdown in progress is work that must finish before the process may exit.
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private async until(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await this.delay(this.timings.pollMs);
  }

  private failure(
    reason: TransportFailureError['reason'],
    detail: string,
    cause?: unknown,
  ): TransportFailureError {
    return new TransportFailureError(this.options.serverId, reason, `${this.options.serverId}: ${detail}`, {
      cause,
    });
  }

  private spawnFailure(error: unknown): TransportFailureError {
    const { command, cwd } = this.options;
    const code = (error as NodeJS.ErrnoException).code;
    let detail: string;
    if (code === 'ENOENT' && cwd !== undefined && !existsSync(cwd))
      detail = `working directory "${cwd}" does not exist`;
    else if (code === 'ENOENT') detail = `command "${command}" not found (is it installed and on PATH?)`;
    else if (code === 'EACCES') detail = `command "${command}" is not executable (permission denied)`;
    else detail = `command "${command}" could not be started: ${(error as Error).message}`;
    return this.failure('spawn', `cannot start: ${detail}`, error);
  }
}
