/**
 * Reading a downstream's catalog to the end: every list followed through `nextCursor`, only the
 * lists whose capability the server declared, all of them in parallel.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { RequestOptions } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/client';
import type { DownstreamSnapshot } from './types.js';

/** The lists a list_changed notification names (resources also refreshes the templates). */
export type CatalogList = 'tools' | 'prompts' | 'resources';

type Lists = Pick<DownstreamSnapshot, 'tools' | 'prompts' | 'resources' | 'resourceTemplates' | 'cacheHints'>;
type Hint = { ttlMs: number; cacheScope: 'public' | 'private' };

const EMPTY: Readonly<Lists> = { tools: [], prompts: [], resources: [], resourceTemplates: [] };

export async function drainSnapshot(client: Client, options: RequestOptions): Promise<DownstreamSnapshot> {
  const [tools, prompts, resources] = await Promise.all([
    drainList(client, 'tools', options),
    drainList(client, 'prompts', options),
    drainList(client, 'resources', options),
  ]);
  const serverInfo = client.getServerVersion() ?? { name: 'unknown', version: '0.0.0' };
  const cacheHints = { ...tools.cacheHints, ...prompts.cacheHints, ...resources.cacheHints };
  return {
    serverInfo,
    capabilities: client.getServerCapabilities() ?? {},
    instructions: client.getInstructions(),
    ...EMPTY,
    ...tools,
    ...prompts,
    ...resources,
    ...(Object.keys(cacheHints).length > 0 && { cacheHints }),
  };
}

/** One list (two for resources), drained; empty when the server did not declare it. */
export async function drainList(
  client: Client,
  list: CatalogList,
  options: RequestOptions,
): Promise<Partial<Lists>> {
  const capabilities = client.getServerCapabilities() ?? {};
  const hint = new HintOf();
  switch (list) {
    case 'tools':
      if (!capabilities.tools) return { tools: [] };
      return {
        tools: await pages(
          (cursor) => client.listTools({ cursor }, options),
          (r) => hint.see(r).tools,
        ),
        ...hint.as('tools'),
      };
    case 'prompts':
      if (!capabilities.prompts) return { prompts: [] };
      return {
        prompts: await pages(
          (cursor) => client.listPrompts({ cursor }, options),
          (r) => hint.see(r).prompts,
        ),
        ...hint.as('prompts'),
      };
    case 'resources': {
      if (!capabilities.resources) return { resources: [], resourceTemplates: [] };
      const [resources, resourceTemplates] = await Promise.all([
        pages(
          (cursor) => client.listResources({ cursor }, options),
          (r) => hint.see(r).resources,
        ),
        pages(
          (cursor) => client.listResourceTemplates({ cursor }, options),
          (r) => r.resourceTemplates,
        ),
      ]);
      return { resources, resourceTemplates, ...hint.as('resources') };
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
    if (error instanceof ProtocolError && error.code === ProtocolErrorCode.MethodNotFound) return all;
    throw error;
  }
  return all;
}

/**
 * The cache fields of a modern server's list pages (the SDK hides them from the result type but
 * keeps them on the object): the smallest ttl, private if any page is. Legacy pages have none.
 */
class HintOf {
  private hint: Hint | undefined;
  private missing = false;

  see<R extends object>(page: R): R {
    const { ttlMs, cacheScope } = page as { ttlMs?: unknown; cacheScope?: unknown };
    if (typeof ttlMs !== 'number' || (cacheScope !== 'public' && cacheScope !== 'private')) {
      this.missing = true;
      return page;
    }
    this.hint = {
      ttlMs: Math.min(ttlMs, this.hint?.ttlMs ?? ttlMs),
      cacheScope: this.hint?.cacheScope === 'private' ? 'private' : cacheScope,
    };
    return page;
  }

  as(list: 'tools' | 'prompts' | 'resources'): Pick<Lists, 'cacheHints'> {
    return this.hint && !this.missing ? { cacheHints: { [list]: this.hint } } : {};
  }
}
