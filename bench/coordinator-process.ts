/**
 * The built coordinator (`node dist/main.js serve --config FILE`) driven by one SDK Client over
 * stdio, for the sections that need more than the proxy contestant's Session: built-in tools,
 * structuredContent, the pids of its children. Every launch is tracked (bench/session.ts), so the
 * runner's cleanup reaches it on error and Ctrl-C; `close()` also kills any of its children that
 * outlive it (they run in their own sessions, so once orphaned no sweep from the bench finds them).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';
import { DOWNSTREAM_COMMAND, FIXTURE } from './fixture.js';
import { descendants, lastErrorLine, sleep, tailOf, tempDir } from './procs.js';
import { CALL_TIMEOUT_MS, aggregatorSession, connectOrExplain, newClient, type Session } from './session.js';
import { COORDINATOR_MAIN } from './targets.js';

/** One fixture server in a generated servers.yml. */
export interface FixtureServer {
  /** Server id, also the fixture's `--name` (what `whoami` answers). */
  id: string;
  /** Extra fixture flags, e.g. ['--sleep-extra', '30']. */
  flags?: string[];
  /** Other servers.yml keys of this server (group, startup, …). */
  keys?: Record<string, unknown>;
}

/** servers.yml (as an object) whose servers are fixtures launched with `node` from PATH. */
export function fixtureConfig(
  fixtures: readonly FixtureServer[],
  rest: Record<string, unknown> = {},
): Record<string, unknown> {
  const servers: Record<string, unknown> = {};
  for (const f of fixtures) {
    servers[f.id] = {
      command: DOWNSTREAM_COMMAND,
      args: [FIXTURE, '--name', f.id, ...(f.flags ?? [])],
      ...f.keys,
    };
  }
  return { servers, ...rest };
}

export interface CoordinatorProcess {
  readonly client: Client;
  /** Tracked: the runner's cleanup closes it. */
  readonly session: Session;
  readonly pid: number;
  /** The temp dir holding servers.yml (also the coordinator's cwd and workspace root). */
  readonly dir: string;
  /** performance.now() just before the process was spawned. */
  readonly spawnedAt: number;
  /** performance.now() once `initialize` was answered. */
  readonly connectedAt: number;
  /**
   * When the first stderr line matching `pattern` arrived at or after `after` (performance.now()
   * time), among the last 1,000 lines. The coordinator relays its servers' stderr as `[id] line`.
   */
  stderrLineAt(pattern: RegExp, after: number): number | undefined;
  /** tools/call; rejects on a transport error, an MCP error, or an `isError` result. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** tools/call and its structuredContent (which must be there). */
  structured<T>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** The coordinator's stderr, last lines. */
  stderr(): string;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Folder for servers.yml; a fresh temp dir when absent. */
  dir?: string;
}

/**
 * Writes `config` as servers.yml and starts the coordinator on it; resolves after `initialize`
 * (bounded by CONNECT_TIMEOUT_MS).
 */
export async function launchCoordinator(
  config: Record<string, unknown>,
  options: LaunchOptions = {},
): Promise<CoordinatorProcess> {
  if (!existsSync(COORDINATOR_MAIN)) throw new Error('dist/main.js missing (coordinator not built)');
  const dir = options.dir ?? tempDir('coord');
  const file = join(dir, 'servers.yml');
  writeFileSync(file, stringify(config));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [COORDINATOR_MAIN, 'serve', '--config', file],
    cwd: dir,
    env: getDefaultEnvironment(),
    stderr: 'pipe',
  });
  const stderr = tailOf(transport.stderr as Readable | null, 8_000);
  const lines: { at: number; line: string }[] = [];
  let partial = '';
  (transport.stderr as Readable | null)?.on('data', (chunk: Buffer | string) => {
    const at = performance.now();
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ at, line });
    if (lines.length > 1_000) lines.splice(0, lines.length - 1_000);
  });
  const client = newClient();
  const spawnedAt = performance.now();
  await connectOrExplain(client, transport, () => {
    const line = lastErrorLine(stderr());
    return line ? `stderr: ${line}` : '';
  });
  const connectedAt = performance.now();
  const pid = transport.pid;
  if (pid === null) {
    await client.close().catch(() => {});
    throw new Error('coordinator has no pid after connecting');
  }
  const close = async () => {
    // Its servers run in their own sessions: once the coordinator is gone they are orphans that
    // the runner's sweep of its descendants cannot find. Note them now, make sure they die.
    const children = descendants(pid);
    await client.close().catch(() => {});
    await reap(children, 3_000);
  };
  const session = aggregatorSession(client, pid, close);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const res = (await client.callTool({ name, arguments: args }, undefined, {
      timeout: CALL_TIMEOUT_MS,
    })) as CallToolResult;
    if (res.isError)
      throw new Error(`${name} returned isError: ${JSON.stringify(res.content).slice(0, 300)}`);
    return res;
  };
  return {
    client,
    session,
    pid,
    dir,
    spawnedAt,
    connectedAt,
    stderrLineAt: (pattern, after) => lines.find((l) => l.at >= after && pattern.test(l.line))?.at,
    call,
    async structured<T>(name: string, args: Record<string, unknown> = {}) {
      const res = await call(name, args);
      if (!res.structuredContent) throw new Error(`${name}: no structuredContent`);
      return res.structuredContent as T;
    },
    stderr,
    close: () => session.close(),
  };
}

/** The direct children of `pid` (from /proc/PID/task/TID/children; a full scan as fallback). */
export function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
    return out;
  } catch {
    return descendants(pid);
  }
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits up to `graceMs` for `pids` to end on their own, then SIGKILLs the rest. */
export async function reap(pids: readonly number[], graceMs: number): Promise<void> {
  const deadline = performance.now() + graceMs;
  while (pids.some(isAlive) && performance.now() < deadline) await sleep(25);
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Polls `check` every `everyMs` until it returns a value (not undefined), bounded by `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 15,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
