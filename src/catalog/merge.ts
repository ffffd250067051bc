/**
 * Builds the immutable Catalog from every downstream snapshot (config order) and the built-in
 * tools. Everything a list or a lookup needs is computed here, once per catalog change: lists
 * are frozen arrays, lookups are map hits, pages are slices cached by `paginate`.
 */
import type { Prompt, Tool } from '@modelcontextprotocol/server';
import { InvalidArgumentError } from '../shared/errors.js';
import { fingerprint } from './diff.js';
import { compileFilter } from './filter.js';
import { mergeNamed, type Owner } from './named.js';
import { checkNamespace } from './naming.js';
import { DEFAULT_PAGE_SIZE, paginate } from './paginate.js';
import { mergeResources } from './resources.js';
import type { BuildCatalogOptions, Catalog, CatalogSource, NamedMatch, ServerCounts } from './types.js';

const NO_MATCHES: readonly NamedMatch[] = Object.freeze([]);

import { type CachedList, mergedCacheHint } from './cache-hint.js';

export function buildCatalog(sources: readonly CatalogSource[], options: BuildCatalogOptions): Catalog {
  const { namespace, builtins } = options;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  checkNamespace(namespace);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new InvalidArgumentError(`page size must be a positive integer, got ${pageSize}`);
  }
  checkUniqueIds(sources);

  const warnings: string[] = [];
  const groupPrefixes = resolveGroupPrefixes(sources, warnings);
  if (builtins && sources.some((s) => s.serverId === builtins.serverId)) {
    warnings.push(
      `Server id "${builtins.serverId}" is also the built-in namespace; its tools lose every clash with the built-ins.`,
    );
  }

  const toolMerge = mergeNamed<Tool>(
    owners(
      sources,
      groupPrefixes,
      builtins && { serverId: builtins.serverId, items: builtins.tools },
      filteredTools,
    ),
    namespace,
    'tool',
  );
  const promptMerge = mergeNamed<Prompt>(
    owners(sources, groupPrefixes, undefined, (source) => source.snapshot.prompts),
    namespace,
    'prompt',
  );
  const resourceMerge = mergeResources(sources, builtins);

  const { items: tools } = toolMerge;
  const { items: prompts } = promptMerge;
  const { resources, resourceTemplates } = resourceMerge;
  const serverIds = Object.freeze(sources.map((s) => s.serverId));
  const counts = new Map<string, ServerCounts>();
  for (const id of serverIds) {
    counts.set(
      id,
      Object.freeze({
        tools: toolMerge.perServer.get(id) ?? 0,
        prompts: promptMerge.perServer.get(id) ?? 0,
        resources: resourceMerge.perServer.get(id)?.resources ?? 0,
        resourceTemplates: resourceMerge.perServer.get(id)?.resourceTemplates ?? 0,
      }),
    );
  }

  const hints = {
    tools: mergedCacheHint(sources, 'tools'),
    prompts: mergedCacheHint(sources, 'prompts'),
    resources: mergedCacheHint(sources, 'resources'),
  };
  return Object.freeze({
    tools,
    prompts,
    resources,
    resourceTemplates,
    cacheHint: (list: CachedList) => hints[list],
    clashes: Object.freeze([...toolMerge.clashes, ...promptMerge.clashes, ...resourceMerge.clashes]),
    warnings: Object.freeze([
      ...warnings,
      ...toolMerge.warnings,
      ...promptMerge.warnings,
      ...resourceMerge.warnings,
    ]),
    fingerprints: Object.freeze({
      tools: fingerprint(tools),
      prompts: fingerprint(prompts),
      resources: fingerprint([...resources, ...resourceTemplates]),
    }),
    pageSize,
    resolveTool: (name: string) => toolMerge.routes.get(name),
    resolvePrompt: (name: string) => promptMerge.routes.get(name),
    resolveResource: resourceMerge.resolve,
    toolsByOriginalName: (name: string) => toolMerge.byOriginal.get(name) ?? NO_MATCHES,
    servers: () => serverIds,
    counts: (serverId: string) => counts.get(serverId),
    listTools: (cursor?: string) => paginate(tools, cursor, pageSize),
    listPrompts: (cursor?: string) => paginate(prompts, cursor, pageSize),
    listResources: (cursor?: string) => paginate(resources, cursor, pageSize),
    listResourceTemplates: (cursor?: string) => paginate(resourceTemplates, cursor, pageSize),
  });
}

/**
 * The namespaces in list order: the built-ins first (they win every clash), then servers in
 * config order, a group standing where its first member stands.
 */
function owners<T>(
  sources: readonly CatalogSource[],
  groupPrefixes: ReadonlyMap<string, string>,
  builtins: { readonly serverId: string; readonly items: readonly T[] } | undefined,
  itemsOf: (source: CatalogSource) => readonly T[],
): Owner<T>[] {
  const list: Owner<T>[] = [];
  if (builtins) {
    const { serverId } = builtins;
    list.push({ id: serverId, kind: 'built-in', prefix: serverId, members: [builtins] });
  }
  const groupMembers = new Map<string, Array<{ serverId: string; items: readonly T[] }>>();
  for (const source of sources) {
    const member = { serverId: source.serverId, items: itemsOf(source) };
    if (source.group === undefined) {
      list.push({
        id: source.serverId,
        kind: 'server',
        prefix: source.prefix ?? source.serverId,
        members: [member],
      });
      continue;
    }
    const members = groupMembers.get(source.group);
    if (members) {
      members.push(member);
      continue;
    }
    const fresh = [member];
    groupMembers.set(source.group, fresh);
    const prefix = groupPrefixes.get(source.group) ?? source.group;
    list.push({ id: source.group, kind: 'group', prefix, members: fresh });
  }
  return list;
}

/** The `tools: { include, exclude }` of a server applies to its tools only, by original name. */
function filteredTools(source: CatalogSource): readonly Tool[] {
  const keep = compileFilter(source.filter);
  return source.snapshot.tools.filter((tool) => keep(tool.name));
}

/** A group's prefix: the first explicit `prefix` among its members (config order), else its id. */
function resolveGroupPrefixes(sources: readonly CatalogSource[], warnings: string[]): Map<string, string> {
  const prefixes = new Map<string, string>();
  for (const { serverId, group, prefix } of sources) {
    if (group === undefined || prefix === undefined) continue;
    const chosen = prefixes.get(group);
    if (chosen === undefined) prefixes.set(group, prefix);
    else if (chosen !== prefix) {
      warnings.push(
        `Server "${serverId}" sets prefix "${prefix}" but group "${group}" already uses "${chosen}"; the group keeps "${chosen}".`,
      );
    }
  }
  return prefixes;
}

function checkUniqueIds(sources: readonly CatalogSource[]): void {
  const seen = new Set<string>();
  for (const { serverId } of sources) {
    if (seen.has(serverId))
      throw new InvalidArgumentError(`Server id "${serverId}" appears twice in the catalog sources`);
    seen.add(serverId);
  }
}
