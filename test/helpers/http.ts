/**
 * `serve --http` of the BUILT coordinator as a child process on a free loopback port, and the
 * clients that reach it: the v2 SDK's Client in either era and the v1 SDK's, over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1HttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport, type ClientCapabilities } from '@modelcontextprotocol/client';
import { MAIN, waitFor } from './coordinator.js';

export interface HttpCoordinator {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit code (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

export async function startHttp(
  configFile: string,
  options: { listen?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<HttpCoordinator> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--http',
      options.listen ?? '127.0.0.1:0',
      '--config',
      configFile,
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(process.env as Record<string, string>), MCP_COORDINATOR_LOG_LEVEL: 'debug', ...options.env },
    },
  );
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await Promise.race([
    waitFor(() => /listening on (http:\/\/\S+)/.exec(stderr)?.[1], 20_000, 'the coordinator listening'),
    exited.then(([code]) => {
      throw new Error(`serve --http exited ${code} before listening:\n${stderr}${stdout}`);
    }),
  ]);
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}

export interface HttpClientOptions {
  era: 'modern' | 'legacy';
  headers?: Record<string, string>;
  name?: string;
  capabilities?: ClientCapabilities;
}

/** A v2 SDK client of either era over Streamable HTTP. */
export async function v2Client(url: string, options: HttpClientOptions): Promise<Client> {
  const client = new Client(
    { name: options.name ?? `http-${options.era}`, version: '1.0.0' },
    {
      capabilities: options.capabilities ?? {},
      versionNegotiation: { mode: options.era === 'modern' ? { pin: '2026-07-28' } : 'legacy' },
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: options.headers ?? {} },
    }),
  );
  return client;
}

/** The v1 SDK's client: a legacy client as today's IDEs ship it. */
export async function v1Client(
  url: string,
  headers: Record<string, string> = {},
  name = 'http-v1',
): Promise<V1Client> {
  const client = new V1Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(new V1HttpTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return client;
}

/** fetch with JSON in and out. */
export async function api(
  url: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body !== undefined && {
      body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    }),
  });
  const text = await response.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: response.status, headers: response.headers, json };
}
