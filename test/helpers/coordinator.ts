/**
 * Drive the BUILT coordinator (dist/main.js) as a child process with the SDK's Client, the way an
 * IDE does. Configs are written to a temp folder; everything is torn down by close().
 */
import { spawn } from 'node:child_process';
import type { Stream } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as V2Client,
  type ClientCapabilities as V2ClientCapabilities,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as V2StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = join(ROOT, 'dist/main.js');
export const FIXTURE = join(ROOT, 'test/fixtures/tool-server.mjs');
export const MODERN_FIXTURE = join(ROOT, 'test/fixtures/modern-server.mjs');
export const NODE_MODULES = join(ROOT, 'node_modules');

/** A stdio server entry for the fixture tool server (extra flags after the name). */
export const fixtureServer = (name: string, ...extra: string[]) => ({
  command: process.execPath,
  args: [FIXTURE, '--name', name, ...extra],
});

/** A stdio server entry for the v2 fixture: modern-only unless `--legacy serve` is among the flags. */
export const modernServer = (name: string, ...extra: string[]) => ({
  command: process.execPath,
  args: [MODERN_FIXTURE, '--name', name, ...extra],
});

export const everythingServer = () => ({
  command: process.execPath,
  args: [join(NODE_MODULES, '@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
});

/** A temp folder that holds the config (and anything else a test wants to put there). */
export function tempDir(prefix = 'mcp-coord-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Write a servers.yml from an object (JSON is valid YAML). */
/**
 * Writes a config into `dir`. An object config without `cacheDir` gets `cacheDir: ""`: tests that
 * share a folder must not turn each other warm through the default `.coordinator-cache` beside
 * the file (warm and cold start differently). A test of the warm catalog sets `cacheDir`, or
 * writes YAML text, which is taken as is.
 */
export function writeConfig(dir: string, config: unknown, name = 'servers.yml'): string {
  const file = join(dir, name);
  const cold =
    typeof config === 'object' && config !== null && !('cacheDir' in config)
      ? { ...config, cacheDir: '' }
      : config;
  writeFileSync(file, typeof cold === 'string' ? cold : JSON.stringify(cold, null, 2));
  return file;
}

export interface StartedCoordinator {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the coordinator wrote to stderr so far. */
  stderr(): string;
  pid: number;
  close(): Promise<void>;
}

/** `serve` on a config, as both SDKs' stdio transports take it (debug logs on stderr). */
function serveCommand(configFile: string, env: Record<string, string> = {}) {
  return {
    command: process.execPath,
    args: [MAIN, 'serve', '--config', configFile],
    env: { ...(process.env as Record<string, string>), MCP_COORDINATOR_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe' as const,
  };
}

/** Everything a stream wrote so far. */
function collect(stream: Stream | null | undefined): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

export interface StartOptions {
  capabilities?: ClientCapabilities;
  env?: Record<string, string>;
  clientName?: string;
  /** Called on the client before connect (to set request handlers for sampling etc.). */
  setup?: (client: Client) => void;
}

export async function startCoordinator(
  configFile: string,
  options: StartOptions = {},
): Promise<StartedCoordinator> {
  const transport = new StdioClientTransport(serveCommand(configFile, options.env));
  const stderr = collect(transport.stderr);
  const client = new Client(
    { name: options.clientName ?? 'integration-test', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  options.setup?.(client);
  await client.connect(transport);
  return {
    client,
    transport,
    stderr,
    pid: transport.pid!,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}

/** Poll until check() returns a truthy value or the time is up. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Does the coordinator list a tool of this name now? */
export async function lists(client: Client, tool: string): Promise<boolean> {
  return (await client.listTools()).tools.some((t) => t.name === tool);
}

/** One coordinator run on `file` until it lists `tool`: what fills its warm catalog. */
export async function warmUp(file: string, tool: string, timeoutMs = 20_000): Promise<void> {
  const c = await startCoordinator(file);
  try {
    await waitFor(() => lists(c.client, tool), timeoutMs, `${tool} listed`);
  } finally {
    await c.close();
  }
}

/** Is a process alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface StartedV2 {
  client: V2Client;
  stderr(): string;
  pid: number;
  close(): Promise<void>;
}

export interface StartV2Options {
  /** `modern` pins 2026-07-28; `legacy` is the v2 client's initialize path; `auto` probes. */
  era?: 'modern' | 'legacy' | 'auto';
  capabilities?: V2ClientCapabilities;
  env?: Record<string, string>;
  clientName?: string;
  /** Answer input_required by hand (the test sees it) instead of the SDK's auto-fulfil loop. */
  manualInput?: boolean;
  setup?: (client: V2Client) => void;
}

/** The built coordinator driven by the v2 SDK's Client, of either era. */
export async function startV2(configFile: string, options: StartV2Options = {}): Promise<StartedV2> {
  const transport = new V2StdioClientTransport(serveCommand(configFile, options.env));
  const stderr = collect(transport.stderr);
  const era = options.era ?? 'modern';
  const client = new V2Client(
    { name: options.clientName ?? 'integration-test-v2', version: '2.0.0' },
    {
      capabilities: options.capabilities ?? {},
      versionNegotiation: {
        mode: era === 'modern' ? { pin: '2026-07-28' } : era === 'auto' ? 'auto' : 'legacy',
      },
      ...(options.manualInput && { inputRequired: { autoFulfill: false } }),
    },
  );
  options.setup?.(client);
  await client.connect(transport);
  return {
    client,
    stderr,
    pid: transport.pid!,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}

/** A JSON-RPC line as the coordinator wrote it (for raw-stdio tests). */
export interface RawReply {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** Raw stdio: write JSON-RPC lines by hand and read every byte the coordinator writes to stdout. */
export function rawCoordinator(configFile: string) {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', configFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const send = (msg: unknown) =>
    child.stdin.write(`${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n`);
  /** Every complete line so far, parsed. */
  const replies = () =>
    stdout()
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as RawReply);
  const byId = (id: unknown) => replies().find((r) => r.id === id);
  return { child, send, replies, byId, stdout, stderr };
}
