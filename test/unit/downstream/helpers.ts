/**
 * Shared pieces of the downstream tests: configs for the fixture servers, a pool that is always
 * stopped, waiting helpers and a liveness check that treats zombies as dead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Notification, Request } from '@modelcontextprotocol/server';
import {
  type RemoteServerConfig,
  remoteServerSchema,
  type ServerConfig,
  type StdioServerConfig,
  stdioServerSchema,
} from '../../../src/config/schema.js';
import type { SupervisorTimings } from '../../../src/downstream/retry-policy.js';
import { createPool, type DownstreamPool, type PoolOptions } from '../../../src/downstream/pool.js';
import type { Downstream, DownstreamHooks, DownstreamStatus } from '../../../src/downstream/types.js';
import { silentLogger } from '../../../src/shared/logger.js';

export const TOOL_SERVER = fileURLToPath(new URL('../../fixtures/tool-server.mjs', import.meta.url));
export const HTTP_SERVER = fileURLToPath(new URL('../../fixtures/http-server.mjs', import.meta.url));

/** Fast backoff so failure paths finish in well under a second per step. */
export const FAST: Partial<SupervisorTimings> = {
  minBackoffMs: 50,
  maxBackoffMs: 400,
  maxFailures: 3,
  stableAfterMs: 1_500,
  crashLoopRetryMs: 60_000,
};

export function stdio(args: string[], extra: Partial<StdioServerConfig> = {}): StdioServerConfig {
  return stdioServerSchema.parse({ command: process.execPath, args: [TOOL_SERVER, ...args], ...extra });
}

export function remote(url: string, extra: Partial<RemoteServerConfig> = {}): RemoteServerConfig {
  return remoteServerSchema.parse({ url, ...extra });
}

export interface Recorded {
  hooks: DownstreamHooks;
  notifications: Array<{ id: string; notification: Notification }>;
  requests: Array<{ id: string; request: Request }>;
  stderr: Array<{ id: string; line: string }>;
}

/** Hooks that record what reaches them. */
export function recorder(): Recorded {
  const recorded: Recorded = {
    notifications: [],
    requests: [],
    stderr: [],
    hooks: {
      onRequest: async (id, request) => {
        recorded.requests.push({ id, request });
        return { roots: [] };
      },
      onNotification: (id, notification) => recorded.notifications.push({ id, notification }),
    },
  };
  return recorded;
}

/** A pool over the given servers, always stopped (and checked empty) when fn is done. */
export async function withPool<T>(
  servers: Array<[string, ServerConfig]>,
  fn: (pool: DownstreamPool, recorded: Recorded) => Promise<T>,
  options: Partial<PoolOptions> = {},
  recorded: Recorded = recorder(),
): Promise<T> {
  const pool = createPool({
    servers,
    hooks: recorded.hooks,
    logger: silentLogger,
    stderrSink: (id, line) => recorded.stderr.push({ id, line }),
    timings: FAST,
    ...options,
  });
  try {
    return await fn(pool, recorded);
  } finally {
    await pool.stopAll();
  }
}

export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Records every status a downstream goes through from now on. */
export function statusLog(downstream: Downstream): DownstreamStatus[] {
  const log: DownstreamStatus[] = [];
  downstream.on('status', (status) => log.push(status));
  return log;
}

/**
 * Whether pid is a live process. A zombie counts as dead: it has exited and only waits to be
 * reaped by its new parent (in containers, PID 1 may be slow to reap orphans).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export interface HttpFixture {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts http-server.mjs and waits for its `listening <port>` line. */
export async function startHttpFixture(args: string[] = [], port = 0): Promise<HttpFixture> {
  const child = spawn(process.execPath, [HTTP_SERVER, '--port', String(port), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const listening = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /listening (\d+)/.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`http fixture exited with ${code}: ${buffer}`)));
  });
  return {
    port: listening,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
