/**
 * Reading a downstream's catalog to the end: every list followed through `nextCursor`, only the
 * lists whose capability the server declared, all of them in parallel.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamSnapshot } from './types.js';

/** The lists a list_changed notification names (resources also refreshes the templates). */
export type CatalogList = 'tools' | 'prompts' | 'resources';

type Lists = Pick<DownstreamSnapshot, 'tools' | 'prompts' | 'resources' | 'resourceTemplates'>;

const EMPTY: Readonly<Lists> = { tools: [], prompts: [], resources: [], resourceTemplates: [] };

export async function drainSnapshot(client: Client, options: RequestOptions): Promise<DownstreamSnapshot> {
  const [tools, prompts, resources] = await Promise.all([
    drainList(client, 'tools', options),
    drainList(client, 'prompts', options),
    drainList(client, 'resources', options),
  ]);
  const serverInfo = client.getServerVersion() ?? { name: 'unknown', version: '0.0.0' };
  return {
    serverInfo,
    capabilities: client.getServerCapabilities() ?? {},
    instructions: client.getInstructions(),
    ...EMPTY,
    ...tools,
    ...prompts,
    ...resources,
  };
}

/** One list (two for resources), drained; empty when the server did not declare it. */
export async function drainList(
  client: Client,
  list: CatalogList,
  options: RequestOptions,
): Promise<Partial<Lists>> {
  const capabilities = client.getServerCapabilities() ?? {};
  switch (list) {
    case 'tools':
      if (!capabilities.tools) return { tools: [] };
      return {
        tools: await pages(
          (cursor) => client.listTools({ cursor }, options),
          (r) => r.tools,
        ),
      };
    case 'prompts':
      if (!capabilities.prompts) return { prompts: [] };
      return {
        prompts: await pages(
          (cursor) => client.listPrompts({ cursor }, options),
          (r) => r.prompts,
        ),
      };
    case 'resources': {
      if (!capabilities.resources) return { resources: [], resourceTemplates: [] };
      const [resources, resourceTemplates] = await Promise.all([
        pages(
          (cursor) => client.listResources({ cursor }, options),
          (r) => r.resources,
        ),
        pages(
          (cursor) => client.listResourceTemplates({ cursor }, options),
          (r) => r.resourceTemplates,
        ),
      ]);
      return { resources, resourceTemplates };
    }
  }
}

async function pages<R extends { nextCursor?: string | undefined }, T>(
  fetchPage: (cursor: string | undefined) => Promise<R>,
  items: (result: R) => T[],
): Promise<T[]> {
  const all: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  try {
    do {
      const result = await fetchPage(cursor);
      all.push(...items(result));
      cursor = result.nextCursor;
      // A server that hands back a cursor it already gave would otherwise loop forever.
      if (cursor !== undefined && seen.has(cursor)) throw new Error(`pagination cursor repeated: ${cursor}`);
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
  } catch (error) {
    // Declared the capability but not the method (common for resources/templates/list): an empty
    // list is the honest answer; refusing the whole server for it would lose its tools.
    if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return all;
    throw error;
  }
  return all;
}
