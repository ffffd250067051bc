/**
 * A Session is one launched contestant as the bench sees it: call a downstream tool, list the
 * merged catalog, know which process's memory counts, close. Every contestant (direct, naive,
 * coordinator, peers) is driven only through this interface.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as V2Client } from '@modelcontextprotocol/client';
import type { ServerSpec } from './fixture.js';
import { sleep } from './procs.js';

export const CONNECT_TIMEOUT_MS = 20_000;
export const CALL_TIMEOUT_MS = 10_000;
const MAX_PAGES = 1_000;

export interface Session {
  /** Calls `tool` of downstream server `server`; rejects on transport errors and `isError` results. */
  call(server: string, tool: string, args: Record<string, unknown>): Promise<unknown>;
  /** Every visible tool name, pagination drained. */
  listToolNames(): Promise<string[]>;
  /** Resolves at the next `notifications/tools/list_changed` (never, for contestants without one). */
  nextListChanged(): Promise<void>;
  /** The process whose peak RSS counts (the aggregator itself), if there is one. */
  readonly measuredPid: number | undefined;
  close(): Promise<void>;
}

export interface Contestant {
  readonly id: string;
  /** Column header, e.g. "mcp-hub 4.2.1 (SSE)". */
  readonly label: string;
  /** Why it cannot run on this machine, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Carries one server only: left out of the many-server figures (spawn, 5,000 tools, RSS). */
  readonly oneServerOnly?: boolean;
  /** The names a full list holds, when its server is not the tool-server fixture (default: it is). */
  expectedNames?(specs: readonly ServerSpec[]): Set<string>;
  /** Launches it in front of `specs` and resolves once the MCP handshake is done. */
  start(specs: readonly ServerSpec[]): Promise<Session>;
}

const open = new Set<Session>();

/** Remembers a session so `closeAllSessions()` can reach it on error or exit. */
export function track(session: Session): Session {
  open.add(session);
  const close = session.close.bind(session);
  return Object.assign(session, {
    close: async () => {
      open.delete(session);
      await close();
    },
  });
}

export async function closeAllSessions(): Promise<void> {
  await Promise.allSettled([...open].map((s) => s.close()));
}

export function newClient(): Client {
  return new Client({ name: 'mcp-bench', version: '1.0.0' });
}

/** Every tool name of one client, all pages. */
/** What listing needs of a client: the v1 and the v2 SDK's Client both have it. */
interface Lister {
  listTools(
    params: { cursor?: string },
    options: { timeout: number },
  ): Promise<{ tools: Array<{ name: string }>; nextCursor?: string }>;
}

export async function listAllNames(client: Lister, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.listTools(cursor ? { cursor } : {}, { timeout: CALL_TIMEOUT_MS });
    for (const t of res.tools) names.push(prefix + t.name);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return names;
}

export async function callChecked(client: Client, name: string, args: Record<string, unknown>) {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
  if (res.isError) throw new Error(`${name} returned isError: ${JSON.stringify(res.content).slice(0, 200)}`);
  return res;
}

/** A latch re-armed after each notification. */
export function listChangedLatch(client: Client): () => Promise<void> {
  let wake: (() => void) | undefined;
  let next = new Promise<void>((r) => (wake = r));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    wake?.();
    next = new Promise<void>((r) => (wake = r));
  });
  return () => next;
}

/** The usual shape: one client in front of an aggregator that names tools `<id>__<tool>`. */
export function aggregatorSession(
  client: Client,
  measuredPid: number | undefined,
  close: () => Promise<void>,
): Session {
  const nextListChanged = listChangedLatch(client);
  return track({
    call: (server, tool, args) => callChecked(client, `${server}__${tool}`, args),
    listToolNames: () => listAllNames(client),
    nextListChanged,
    measuredPid,
    close,
  });
}

/** Connects with a bounded handshake; on failure the transport is closed and the error says why. */
export async function connectOrExplain<T>(
  client: { connect(transport: T, options: { timeout: number }): Promise<void>; close(): Promise<void> },
  transport: T,
  explain: () => string,
): Promise<void> {
  try {
    await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    await client.close().catch(() => {});
    const why = explain();
    throw new Error(`${(error as Error).message}${why ? ` — ${why}` : ''}`, { cause: error });
  }
}

/**
 * Lists until every expected name is there: "first full tools/list". Re-lists at once on
 * list_changed, else every 10 ms. Returns the number of tools seen.
 */
export async function waitForFullList(
  session: Session,
  expected: ReadonlySet<string>,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    const names = await session.listToolNames();
    const have = new Set(names);
    seen = [...expected].filter((n) => have.has(n)).length;
    if (seen === expected.size) return names.length;
    if (Date.now() > deadline) {
      throw new Error(`tools/list never full: ${seen}/${expected.size} after ${timeoutMs} ms`);
    }
    await Promise.race([session.nextListChanged(), sleep(10)]);
  }
}

/** A v2 SDK Client pinned to 2026-07-28 (no probe: the era is known). */
export function newModernClient(): V2Client {
  return new V2Client(
    { name: 'mcp-bench-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
}

/** A modern client's session: calls by `<prefix><tool>`, no list_changed (it would need listen). */
export function modernSession(
  client: V2Client,
  prefixOf: (server: string) => string,
  measuredPid: number | undefined,
  /** Put before every listed name (a direct client lists its one server's names bare). */
  listPrefix?: string,
): Session {
  return track({
    call: async (server, tool, args) => {
      const res = await client.callTool(
        { name: `${prefixOf(server)}${tool}`, arguments: args },
        { timeout: CALL_TIMEOUT_MS },
      );
      if (res.isError)
        throw new Error(`${tool} returned isError: ${JSON.stringify(res.content).slice(0, 200)}`);
      return res;
    },
    listToolNames: () => listAllNames(client, listPrefix),
    nextListChanged: () => new Promise<void>(() => {}),
    measuredPid,
    close: () => client.close(),
  });
}
