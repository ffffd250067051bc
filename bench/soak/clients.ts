/**
 * The soak's clients: each one an IDE window, i.e. its own built coordinator over stdio (or, with
 * `--http`, all of them over Streamable HTTP to one coordinator, each with its own API key), driven
 * by a legacy (v1 SDK, `initialize`) or a modern (v2 SDK pinned to 2026-07-28) Client. One
 * `call()` for both: it resolves with the result (an `isError` result included) and rejects only
 * on an MCP or transport error.
 */
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as V2StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { StreamableHTTPClientTransport as V2HttpTransport } from '@modelcontextprotocol/client';
import { tailOf } from '../procs.js';
import { CALL_TIMEOUT_MS, connectOrExplain, newModernClient } from '../session.js';
import { COORDINATOR_MAIN } from '../targets.js';

export type ClientEra = 'legacy' | 'modern';

export interface CallOutcome {
  isError: boolean;
  structured: Record<string, unknown> | undefined;
  text: string;
}

export interface SoakClient {
  readonly era: ClientEra;
  /** The coordinator process this client talks to. */
  readonly pid: number;
  call(name: string, args: Record<string, unknown>): Promise<CallOutcome>;
  stderr(): string;
  close(): Promise<void>;
}

function serveCommand(configFile: string, cwd: string) {
  return {
    command: process.execPath,
    args: [COORDINATOR_MAIN, 'serve', '--config', configFile],
    cwd,
    env: { ...(process.env as Record<string, string>), MCP_COORDINATOR_LOG_LEVEL: 'warn' },
    stderr: 'pipe' as const,
  };
}

function outcome(result: object): CallOutcome {
  const res = result as { isError?: boolean; structuredContent?: unknown; content?: unknown };
  const content = Array.isArray(res.content) ? (res.content as Array<{ text?: string }>) : [];
  return {
    isError: res.isError === true,
    structured: res.structuredContent as Record<string, unknown> | undefined,
    text: content.map((c) => c.text ?? '').join(''),
  };
}

export async function startClient(era: ClientEra, configFile: string, cwd: string): Promise<SoakClient> {
  if (era === 'legacy') {
    const transport = new StdioClientTransport(serveCommand(configFile, cwd));
    const stderr = tailOf(transport.stderr as Readable | null, 8_000);
    const client = new Client({ name: 'soak-legacy', version: '1.0.0' });
    await connectOrExplain(client, transport, stderr);
    return {
      era,
      pid: transport.pid!,
      call: async (name, args) =>
        outcome(await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS })),
      stderr,
      close: () => client.close(),
    };
  }
  const transport = new V2StdioClientTransport(serveCommand(configFile, cwd));
  const stderr = tailOf(transport.stderr as Readable | null, 8_000);
  const client = newModernClient();
  await connectOrExplain(client, transport, stderr);
  return {
    era,
    pid: transport.pid!,
    call: async (name, args) =>
      outcome(await client.callTool({ name, arguments: args }, { timeout: CALL_TIMEOUT_MS })),
    stderr,
    close: () => client.close(),
  };
}

/**
 * A client of the one `serve --http` coordinator at `url` (whose process is `pid`), as the agent
 * of API key `key`: the v1 SDK's Client (legacy, a session) or the v2 SDK's pinned to 2026-07-28.
 */
export async function startHttpClient(
  era: ClientEra,
  url: string,
  key: string,
  pid: number,
): Promise<SoakClient> {
  const endpoint = new URL(`${url}/mcp`);
  const requestInit = { headers: { authorization: `Bearer ${key}` } };
  const none = () => '';
  if (era === 'legacy') {
    const client = new Client({ name: 'soak-legacy', version: '1.0.0' });
    await connectOrExplain(client, new StreamableHTTPClientTransport(endpoint, { requestInit }), none);
    return {
      era,
      pid,
      call: async (name, args) =>
        outcome(await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS })),
      stderr: none,
      close: () => client.close(),
    };
  }
  const client = newModernClient();
  await connectOrExplain(client, new V2HttpTransport(endpoint, { requestInit }), none);
  return {
    era,
    pid,
    call: async (name, args) =>
      outcome(await client.callTool({ name, arguments: args }, { timeout: CALL_TIMEOUT_MS })),
    stderr: none,
    close: () => client.close(),
  };
}
