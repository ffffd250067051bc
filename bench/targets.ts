/**
 * How each contestant is launched. All of them stand in front of the same fixture servers.
 * - direct:      the limit — an SDK Client per fixture, spawned by the bench itself.
 * - naive:       bench/naive-proxy.mjs, the ≈80-line SDK stdio→stdio proxy (naive-v2: the same on the v2 SDK).
 * - relay:       bench/byte-relay.mjs, bytes copied both ways, nothing parsed: the floor of a hop.
 * - coordinator: `node dist/main.js serve --config <generated servers.yml>`, cwd a fresh temp dir.
 * Third-party aggregators live in peers.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO_ROOT, downstreamLaunch, writeClaudeConfig, writeServersYml } from './fixture.js';
import { lastErrorLine, tailOf, tempDir } from './procs.js';
import {
  aggregatorSession,
  callChecked,
  connectOrExplain,
  listAllNames,
  newClient,
  track,
  type Contestant,
  type Session,
} from './session.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V2StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { MODERN_FIXTURE } from './fixture.js';
import { modernSession, newModernClient } from './session.js';

/** Spawns `node <args>` as an MCP stdio server and connects a client to it. */
async function stdioAggregator(args: string[], cwd: string): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    cwd,
    env: getDefaultEnvironment(),
    stderr: 'pipe',
  });
  const stderr = tailOf(transport.stderr as Readable | null);
  const client = newClient();
  await connectOrExplain(client, transport, () => {
    const line = lastErrorLine(stderr());
    return line ? `stderr: ${line}` : '';
  });
  return aggregatorSession(client, transport.pid ?? undefined, () => client.close());
}

export const direct: Contestant = {
  id: 'direct',
  label: 'direct',
  unavailable: async () => undefined,
  async start(specs) {
    const clients = new Map<string, Client>();
    // Each pipeline is spawn → handshake → first list, all in parallel: a client doing it all itself.
    const settled = await Promise.allSettled(
      specs.map(async (spec) => {
        const transport = new StdioClientTransport({ ...downstreamLaunch(spec), stderr: 'pipe' });
        const stderr = tailOf(transport.stderr as Readable | null);
        const client = newClient();
        await connectOrExplain(client, transport, () => lastErrorLine(stderr()));
        clients.set(spec.id, client);
        return listAllNames(client, `${spec.id}__`);
      }),
    );
    const closeAll = async () => {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
    };
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await closeAll();
      throw failed.reason;
    }
    let pendingFirst: string[] | undefined = settled.flatMap((r) =>
      r.status === 'fulfilled' ? r.value : [],
    );
    return track({
      call: (server, tool, args) => {
        const client = clients.get(server);
        if (!client) return Promise.reject(new Error(`direct: no server ${server}`));
        return callChecked(client, tool, args);
      },
      async listToolNames() {
        if (pendingFirst) {
          const first = pendingFirst;
          pendingFirst = undefined;
          return first;
        }
        const lists = await Promise.all([...clients].map(([id, c]) => listAllNames(c, `${id}__`)));
        return lists.flat();
      },
      nextListChanged: () => new Promise<void>(() => {}),
      measuredPid: undefined,
      close: closeAll,
    });
  },
};

export const NAIVE_PROXY = join(REPO_ROOT, 'bench/naive-proxy.mjs');

export const naive: Contestant = {
  id: 'naive',
  label: 'naive SDK proxy',
  unavailable: async () => (existsSync(NAIVE_PROXY) ? undefined : `${NAIVE_PROXY} missing`),
  async start(specs) {
    const dir = tempDir('naive');
    return stdioAggregator([NAIVE_PROXY, '--config', writeClaudeConfig(dir, specs)], dir);
  },
};

export const NAIVE_PROXY_V2 = join(REPO_ROOT, 'bench/naive-proxy-v2.mjs');

/** The same naive hop on the v2 SDK: how much of a v2 hop's cost is the SDK's own. */
export const naiveV2: Contestant = {
  id: 'naive-v2',
  label: 'naive SDK proxy, v2 SDK',
  unavailable: async () => (existsSync(NAIVE_PROXY_V2) ? undefined : `${NAIVE_PROXY_V2} missing`),
  async start(specs) {
    const dir = tempDir('naive-v2');
    return stdioAggregator([NAIVE_PROXY_V2, '--config', writeClaudeConfig(dir, specs)], dir);
  },
};

export const BYTE_RELAY = join(REPO_ROOT, 'bench/byte-relay.mjs');

/**
 * The floor of a stdio hop: bench/byte-relay.mjs copies bytes both ways between the client and
 * one fixture, parsing nothing. One-server figures only (it cannot merge several servers).
 */
export const relay: Contestant = {
  id: 'relay',
  label: 'byte relay (floor)',
  oneServerOnly: true,
  unavailable: async () => (existsSync(BYTE_RELAY) ? undefined : `${BYTE_RELAY} missing`),
  async start(specs) {
    const spec = specs[0];
    if (!spec || specs.length !== 1) throw new Error('a byte relay carries exactly one server');
    const launch = downstreamLaunch(spec);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BYTE_RELAY, launch.command, ...launch.args],
      env: getDefaultEnvironment(),
      stderr: 'pipe',
    });
    const stderr = tailOf(transport.stderr as Readable | null);
    const client = newClient();
    await connectOrExplain(client, transport, () => lastErrorLine(stderr()));
    return track({
      call: (_server, tool, args) => callChecked(client, tool, args),
      listToolNames: () => listAllNames(client, `${spec.id}__`),
      nextListChanged: () => new Promise<void>(() => {}),
      measuredPid: transport.pid ?? undefined,
      close: () => client.close(),
    });
  },
};

export const COORDINATOR_MAIN = join(REPO_ROOT, 'dist/main.js');

export const coordinator: Contestant = {
  id: 'coordinator',
  label: `mcp-coordinator ${readVersion(join(REPO_ROOT, 'package.json'))}`,
  unavailable: async () =>
    existsSync(COORDINATOR_MAIN) ? undefined : 'dist/main.js missing (coordinator not built)',
  async start(specs) {
    // A fresh cwd per launch: no catalog cache from an earlier launch can make a cold start warm.
    const dir = tempDir('coordinator');
    return stdioAggregator([COORDINATOR_MAIN, 'serve', '--config', writeServersYml(dir, specs)], dir);
  },
};

export function readVersion(packageJson: string): string {
  try {
    return String((JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? '?');
  } catch {
    return '?';
  }
}

/** Starts a modern (2026-07-28) client in front of `node <args>`; bounded like every connect. */
async function modernStdio(
  args: string[],
  cwd: string | undefined,
  prefixOf: (server: string) => string,
  listPrefix?: string,
) {
  const transport = new V2StdioClientTransport({
    command: process.execPath,
    args,
    cwd,
    env: getDefaultEnvironment(),
    stderr: 'pipe',
  });
  const stderr = tailOf(transport.stderr as Readable | null);
  const client = newModernClient();
  await connectOrExplain(client, transport, () => {
    const line = lastErrorLine(stderr());
    return line ? `stderr: ${line}` : '';
  });
  return modernSession(client, prefixOf, transport.pid ?? undefined, listPrefix);
}

/** The limit for a modern client: the v2 Client straight to the modern (v2 SDK) echo fixture. */
export const modernDirect: Contestant = {
  id: 'modern-direct',
  label: 'direct, modern (v2 fixture)',
  oneServerOnly: true,
  unavailable: async () => (existsSync(MODERN_FIXTURE) ? undefined : `${MODERN_FIXTURE} missing`),
  // The v2 fixture has its own tools: the measured ones are echo and sleep.
  expectedNames: (specs) => new Set(specs.flatMap((s) => [`${s.id}__echo`, `${s.id}__sleep`])),
  async start(specs) {
    const spec = specs[0];
    if (!spec || specs.length !== 1) throw new Error('modern-direct carries exactly one server');
    return modernStdio([MODERN_FIXTURE, '--name', spec.id], undefined, () => '', `${spec.id}__`);
  },
};

/** The coordinator in front of the same fixtures, reached by a modern (2026-07-28) client. */
export const coordinatorModern: Contestant = {
  id: 'coordinator-modern',
  label: 'mcp-coordinator, modern client',
  oneServerOnly: true,
  unavailable: coordinator.unavailable,
  async start(specs) {
    const dir = tempDir('coordinator-modern');
    return modernStdio(
      [COORDINATOR_MAIN, 'serve', '--config', writeServersYml(dir, specs)],
      dir,
      (server) => `${server}__`,
    );
  },
};

/**
 * An earlier build of the coordinator (BENCH_BASELINE_MAIN=/path/to/its/dist/main.js), e.g. the
 * last v1-SDK build of main, measured in the same run as this one.
 */
const BASELINE_MAIN = process.env.BENCH_BASELINE_MAIN;
export const baseline: Contestant = {
  id: 'baseline',
  label: `mcp-coordinator baseline build`,
  oneServerOnly: true,
  unavailable: async () =>
    !BASELINE_MAIN
      ? 'BENCH_BASELINE_MAIN not set'
      : existsSync(BASELINE_MAIN)
        ? undefined
        : `${BASELINE_MAIN} missing`,
  async start(specs) {
    const dir = tempDir('baseline');
    return stdioAggregator([BASELINE_MAIN!, 'serve', '--config', writeServersYml(dir, specs)], dir);
  },
};
