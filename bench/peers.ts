/**
 * Third-party aggregators from npm, installed on demand into bench/peers (its own package.json,
 * never a dependency of mcp-coordinator) and each driven the way its README documents.
 *
 * Left out of the proxy section because they are single-server bridges, not aggregators (the
 * http section measures the first two, see http-targets.ts): mcp-proxy (stdio → SSE/HTTP),
 * supergateway (stdio ↔ SSE/WS/HTTP), mcp-gateway (stdio → one remote SSE server). Names that
 * do not exist on npm: mcp-aggregator, @1mcp/agent, mcp-router, mcp-proxy-server, metamcp, @metamcp/mcp-server-metamcp, mcpx, magg, mcgravity.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { freePort } from '../test/helpers/redis-server.js';
import { REPO_ROOT, writeClaudeConfig } from './fixture.js';
import { lastErrorLine, sleep, stopTree, tailOf, tempDir, waitForPort, withTimeout } from './procs.js';
import {
  CONNECT_TIMEOUT_MS,
  aggregatorSession,
  connectOrExplain,
  newClient,
  type Contestant,
} from './session.js';
import { readVersion } from './targets.js';

export const PEERS_DIR = join(REPO_ROOT, 'bench/peers');
const INSTALL_TIMEOUT_MS = 180_000;

function peerDependencies(): string[] {
  const pkg = JSON.parse(readFileSync(join(PEERS_DIR, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(pkg.dependencies ?? {});
}

const installed = (name: string) => existsSync(join(PEERS_DIR, 'node_modules', name, 'package.json'));

let installError: string | undefined;

/** `npm install --prefix bench/peers` when a peer is missing. Never throws: failures become reasons. */
export async function ensurePeers(log: (m: string) => void): Promise<void> {
  if (peerDependencies().every(installed)) return;
  log('installing peers: npm install --prefix bench/peers');
  const child = spawn('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--omit=dev'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = tailOf(child.stderr);
  const code = await withTimeout(
    new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.once('error', () => resolve(-1));
    }),
    INSTALL_TIMEOUT_MS,
    'npm install --prefix bench/peers',
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    installError = error.message;
    return null;
  });
  if (code !== 0 && !installError) installError = `npm install failed (${code}): ${lastErrorLine(stderr())}`;
}

export function notInstalled(name: string): string | undefined {
  if (installed(name)) return undefined;
  return installError ? `not installed: ${installError}` : `not installed in bench/peers`;
}

const MCP_HUB_CLI = join(PEERS_DIR, 'node_modules/mcp-hub/dist/cli.js');

/**
 * mcp-hub (ravitemer): `mcp-hub --port P --config file.json`; MCP clients connect to the SSE
 * endpoint http://127.0.0.1:P/mcp once GET /api/health says `state: ready`. Tools are exposed
 * as `<server>__<tool>`. Its logs and workspace cache go under XDG_STATE_HOME, pointed at a
 * temp dir. At start it tries to fetch its marketplace registry (offline: fails, goes on).
 */
export const mcpHub: Contestant = {
  id: 'mcp-hub',
  get label() {
    const version = installed('mcp-hub')
      ? ` ${readVersion(join(PEERS_DIR, 'node_modules/mcp-hub/package.json'))}`
      : '';
    return `mcp-hub${version} (SSE)`;
  },
  unavailable: async () => notInstalled('mcp-hub'),
  async start(specs) {
    const dir = tempDir('mcp-hub');
    for (const sub of ['state', 'config', 'data', 'cache']) mkdirSync(join(dir, sub));
    const config = writeClaudeConfig(dir, specs);
    const port = await freePort();
    // Not detached, like every other contestant: a new session would also be a new scheduler
    // autogroup, i.e. a bigger CPU share whenever the machine is busy.
    const child = spawn(process.execPath, [MCP_HUB_CLI, '--port', String(port), '--config', config], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        XDG_STATE_HOME: join(dir, 'state'),
        XDG_CONFIG_HOME: join(dir, 'config'),
        XDG_DATA_HOME: join(dir, 'data'),
        XDG_CACHE_HOME: join(dir, 'cache'),
      },
    });
    const stdout = tailOf(child.stdout);
    const stderr = tailOf(child.stderr);
    const alive = () => child.exitCode === null && child.signalCode === null;
    // The hub stops its servers on SIGTERM; whatever it leaves behind is swept by pid.
    const kill = () => stopTree(child);
    const explain = () => {
      const line = lastErrorLine(`${stdout()}\n${stderr()}`);
      return line ? `output: ${line}` : '';
    };
    const client = newClient();
    try {
      await waitForPort(port, CONNECT_TIMEOUT_MS, alive);
      // Its /mcp endpoint answers 500 until the hub is initialised: wait for the documented state.
      await waitForHubReady(port, CONNECT_TIMEOUT_MS, alive);
      await connectOrExplain(
        client,
        new SSEClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)),
        explain,
      );
    } catch (error) {
      await kill();
      throw error;
    }
    return aggregatorSession(client, child.pid, async () => {
      await client.close().catch(() => {});
      await kill();
    });
  },
};

/** Polls GET /api/health until `state` leaves "starting" (README: "Health and Status"). */
async function waitForHubReady(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = 'unknown';
  while (Date.now() < deadline && alive()) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(2000) });
      state = String(((await res.json()) as { state?: unknown }).state);
      if (state === 'ready') return;
      if (state === 'error' || state === 'stopped') break;
    } catch {
      // not answering yet
    }
    await sleep(10);
  }
  throw new Error(`mcp-hub never became ready (state ${state}${alive() ? '' : ', process exited'})`);
}

export const peers: readonly Contestant[] = [mcpHub];
