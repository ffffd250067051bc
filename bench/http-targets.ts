/**
 * The contestants of the http section, each serving MCP over HTTP with the echo of
 * test/fixtures/tool-server.mjs behind it (or, for the SDK's own server, in it), and how a v2
 * client of either era reaches it:
 * - coordinator:  `node dist/main.js serve --http 127.0.0.1:0`, one stdio fixture `fx` (tools `fx__*`);
 * - sdk-http:     bench/sdk-http-echo.mjs — the v2 SDK's `createMcpHandler` on node:http, the baseline;
 * - supergateway: `--stdio "<fixture>" --outputTransport streamableHttp --stateful` (its stateless
 *                 mode spawns a fixture per legacy request; stateful keeps one per session);
 * - mcp-proxy:    `--server stream -- <fixture>` (sessionful for legacy clients, per-request modern);
 * - mcp-hub:      the proxy section's launcher (peers.ts), its SSE endpoint, the v1 SDK client.
 * The bridges expose the fixture's tools unprefixed; the aggregators as `fx__<tool>`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHttp, v2Client } from '../test/helpers/http.js';
import { freePort } from '../test/helpers/redis-server.js';
import {
  FIXTURE_BASE_TOOLS,
  REPO_ROOT,
  downstreamLaunch,
  writeServersYml,
  type ServerSpec,
} from './fixture.js';
import { PEERS_DIR, mcpHub, notInstalled } from './peers.js';
import { lastErrorLine, sleep, stopTree, tailOf, tempDir, waitForPort, withTimeout } from './procs.js';
import { CONNECT_TIMEOUT_MS, modernSession, type Session } from './session.js';
import { readVersion } from './targets.js';

export type Era = 'modern' | 'legacy';

/** One launched contestant. */
export interface HttpLaunch {
  /** Origin of its MCP endpoint (`<url>/mcp`); undefined for mcp-hub (SSE, own session). */
  readonly url?: string;
  /** The process serving HTTP (whose peak RSS counts). */
  readonly pid: number | undefined;
  /** A fresh client of `era`, handshake done; its calls name server `fx`. */
  connect(era: Era): Promise<Session>;
  stop(): Promise<void>;
}

export interface HttpContestant {
  readonly id: string;
  readonly label: string;
  /** The client eras it is measured with. */
  readonly eras: readonly Era[];
  unavailable(): Promise<string | undefined>;
  start(): Promise<HttpLaunch>;
}

const FX: ServerSpec = { id: 'fx', tools: 0 };

/** A v2 client of `era` over Streamable HTTP to `<url>/mcp`, as a Session calling `<prefix><tool>`. */
async function connectV2(url: string, era: Era, prefix: string, pid: number | undefined): Promise<Session> {
  const client = await withTimeout(
    v2Client(url, { era, name: `mcp-bench-${era}` }),
    CONNECT_TIMEOUT_MS,
    `${era} connect`,
  );
  return modernSession(client, () => prefix, pid);
}

/** Spawns an HTTP server on a free port and waits until it accepts connections. */
async function spawnListening(
  args: (port: number) => string[],
  options: { cwd?: string } = {},
): Promise<HttpLaunch & { url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, args(port), { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = tailOf(child.stderr);
  tailOf(child.stdout);
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await waitForPort(port, CONNECT_TIMEOUT_MS, alive);
  } catch (error) {
    await stopTree(child);
    const line = lastErrorLine(output());
    throw new Error(`${(error as Error).message}${line ? ` — ${line}` : ''}`, { cause: error });
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid,
    connect: (era) => connectV2(url, era, '', child.pid),
    stop: () => stopTree(child),
  };
}

/** A fixture command line as the bridges take it (in its own session, as the coordinator's are). */
function fixtureCommand(): string[] {
  const { command, args } = downstreamLaunch(FX);
  return [command, ...args];
}

export interface CoordinatorOptions {
  /** Synthetic tools on the fixture (the 5,000-tool figures). */
  tools?: number;
}

export interface CoordinatorLaunch extends HttpLaunch {
  readonly url: string;
  /** Tools in the catalog once it held all of the fixture's (built-ins included). */
  readonly catalogSize: number;
}

/**
 * The built coordinator's HTTP face in front of one stdio fixture; no rate limit, no warm cache.
 * Resolves once the catalog holds every tool of the fixture (before that, `fx__echo` is unknown).
 */
export async function startCoordinatorHttp(options: CoordinatorOptions = {}): Promise<CoordinatorLaunch> {
  const dir = tempDir('http-coordinator');
  const config = writeServersYml(dir, [{ ...FX, tools: options.tools ?? 0 }]);
  // The default limit (600/min per address) would refuse a benchmark; nothing else is changed.
  appendFileSync(config, `cacheDir: ''\nhttp:\n  rateLimitPerMinute: 0\n`);
  const started = await startHttp(config, { env: { MCP_COORDINATOR_LOG_LEVEL: 'info' } });
  const pid = started.child.pid;
  const expected = FIXTURE_BASE_TOOLS.length + (options.tools ?? 0);
  let catalogSize: number;
  try {
    catalogSize = await waitForCatalog(started.url, expected, CONNECT_TIMEOUT_MS * 3);
  } catch (error) {
    await stopTree(started.child);
    throw error;
  }
  return {
    url: started.url,
    catalogSize,
    pid,
    connect: (era) => connectV2(started.url, era, 'fx__', pid),
    stop: () => stopTree(started.child),
  };
}

/** Polls `GET /api/tools?q=fx__` until `fx__echo` is listed and `fx__*` number `tools`; the catalog's total. */
async function waitForCatalog(url: string, tools: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/tools?q=fx__`);
      const body = (await res.json()) as { tools?: { name: string }[]; total?: number };
      seen = body.tools?.length ?? 0;
      if (seen >= tools && body.tools!.some((t) => t.name === 'fx__echo')) return body.total ?? seen;
    } catch {
      // not answering yet
    }
    await sleep(100);
  }
  throw new Error(`the coordinator's catalog never held the fixture's ${tools} tools (saw ${seen})`);
}

const peerVersion = (name: string) =>
  notInstalled(name) ? '' : ` ${readVersion(join(PEERS_DIR, 'node_modules', name, 'package.json'))}`;

export const httpContestants: readonly HttpContestant[] = [
  {
    id: 'coordinator',
    label: 'coordinator',
    eras: ['modern', 'legacy'],
    unavailable: async () => undefined,
    start: () => startCoordinatorHttp(),
  },
  {
    id: 'sdk-http',
    label: 'SDK createMcpHandler',
    eras: ['modern', 'legacy'],
    unavailable: async () => undefined,
    start: () =>
      spawnListening((port) => [join(REPO_ROOT, 'bench/sdk-http-echo.mjs'), '--port', String(port)]),
  },
  {
    id: 'supergateway',
    get label() {
      return `supergateway${peerVersion('supergateway')}`;
    },
    eras: ['modern', 'legacy'],
    unavailable: async () => notInstalled('supergateway'),
    start: () =>
      spawnListening((port) => [
        join(PEERS_DIR, 'node_modules/supergateway/dist/index.js'),
        ...['--stdio', fixtureCommand().join(' '), '--outputTransport', 'streamableHttp', '--stateful'],
        ...['--port', String(port), '--logLevel', 'none'],
      ]),
  },
  {
    id: 'mcp-proxy',
    get label() {
      return `mcp-proxy${peerVersion('mcp-proxy')}`;
    },
    eras: ['modern', 'legacy'],
    unavailable: async () => notInstalled('mcp-proxy'),
    start: () =>
      spawnListening((port) => [
        join(PEERS_DIR, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
        ...['--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--'],
        ...fixtureCommand(),
      ]),
  },
  {
    id: 'mcp-hub',
    get label() {
      return `mcp-hub${peerVersion('mcp-hub')} (SSE, v1 client)`;
    },
    eras: ['legacy'],
    unavailable: () => mcpHub.unavailable(),
    async start() {
      // Its one SSE session is the legacy client; a second connect would be a second hub.
      const session = await mcpHub.start([FX]);
      return {
        pid: session.measuredPid,
        connect: async () => session,
        stop: () => session.close(),
      };
    },
  },
];
