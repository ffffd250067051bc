/**
 * Resources and resource templates. A URI (or uriTemplate) only one server has passes through
 * unchanged; one that several servers share is exposed as `<server-id>+<original>` for each of
 * them. Server ids hold no `+`, so the first `+` of such a URI ends the id. Replicas of a group
 * are not merged here: their resources are data, and prod and lab data differ.
 */
import type { Resource, ResourceTemplateType as ResourceTemplate } from '@modelcontextprotocol/server';
import { UriTemplate } from '@modelcontextprotocol/server';
import {
  META_ORIGINAL_URI,
  META_SERVER,
  type BuiltinTools,
  type CatalogSource,
  type ResourceRoute,
} from './types.js';

export interface ResourceMerge {
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  readonly resolve: (uri: string) => ResourceRoute | undefined;
  readonly perServer: ReadonlyMap<string, { resources: number; resourceTemplates: number }>;
  readonly clashes: readonly string[];
  readonly warnings: readonly string[];
}

interface UriMerge<T> {
  items: T[];
  /** Exposed URI → route. */
  exposed: Map<string, ResourceRoute>;
  /** A shared URI asked for bare → its first owner in config order. */
  sharedBare: Map<string, ResourceRoute>;
  perServer: Map<string, number>;
}

export function mergeResources(sources: readonly CatalogSource[], builtins?: BuiltinTools): ResourceMerge {
  const clashes: string[] = [];
  const warnings: string[] = [];
  const resources = mergeUris<Resource>(
    sources,
    (s) => s.snapshot.resources,
    (r) => r.uri,
    (r, uri, meta) => ({ ...r, uri, _meta: meta }),
    'resource',
    clashes,
    warnings,
  );
  const templates = mergeUris<ResourceTemplate>(
    sources,
    (s) => s.snapshot.resourceTemplates,
    (t) => t.uriTemplate,
    (t, uriTemplate, meta) => ({ ...t, uriTemplate, _meta: meta }),
    'resource template',
    clashes,
    warnings,
  );

  const matchers = compileTemplates(sources, warnings);
  const knownIds = new Set(sources.map((s) => s.serverId));
  const resolve = (uri: string): ResourceRoute | undefined => {
    // The coordinator's own schemes first: a downstream never answers for them.
    if (builtins?.ownsUri?.(uri)) return { serverId: builtins.serverId, originalUri: uri };
    const hit = resources.exposed.get(uri) ?? resources.sharedBare.get(uri);
    if (hit) return hit;
    const plus = uri.indexOf('+');
    if (plus > 0) {
      const serverId = uri.slice(0, plus);
      if (knownIds.has(serverId)) return { serverId, originalUri: uri.slice(plus + 1) };
    }
    for (const { serverId, template } of matchers) {
      if (matches(template, uri)) return { serverId, originalUri: uri };
    }
    return undefined;
  };

  const perServer = new Map<string, { resources: number; resourceTemplates: number }>();
  for (const { serverId } of sources) {
    perServer.set(serverId, {
      resources: resources.perServer.get(serverId) ?? 0,
      resourceTemplates: templates.perServer.get(serverId) ?? 0,
    });
  }
  return {
    resources: Object.freeze(resources.items),
    resourceTemplates: Object.freeze([...builtinTemplates(builtins), ...templates.items]),
    resolve,
    perServer,
    clashes,
    warnings,
  };
}

function builtinTemplates(builtins: BuiltinTools | undefined): ResourceTemplate[] {
  if (!builtins?.resourceTemplates) return [];
  return builtins.resourceTemplates.map((t) =>
    Object.freeze({
      ...t,
      _meta: Object.freeze({
        ...t._meta,
        [META_SERVER]: builtins.serverId,
        [META_ORIGINAL_URI]: t.uriTemplate,
      }),
    }),
  );
}

function mergeUris<T extends { _meta?: { [key: string]: unknown } }>(
  sources: readonly CatalogSource[],
  pick: (source: CatalogSource) => readonly T[],
  uriOf: (item: T) => string,
  rebuild: (item: T, uri: string, meta: Record<string, unknown>) => T,
  kind: string,
  clashes: string[],
  warnings: string[],
): UriMerge<T> {
  // Pass 1: each server's distinct items, and who owns each URI.
  const owners = new Map<string, string[]>();
  const distinct = sources.map((source) => {
    const seen = new Set<string>();
    const kept: T[] = [];
    for (const item of pick(source)) {
      const uri = uriOf(item);
      if (seen.has(uri)) {
        warnings.push(
          `Server "${source.serverId}" lists ${kind} "${uri}" twice; the first definition is used.`,
        );
        continue;
      }
      seen.add(uri);
      kept.push(item);
      const list = owners.get(uri);
      if (list) list.push(source.serverId);
      else owners.set(uri, [source.serverId]);
    }
    return kept;
  });

  // Pass 2: expose, in config order.
  const merged: UriMerge<T> = { items: [], exposed: new Map(), sharedBare: new Map(), perServer: new Map() };
  sources.forEach(({ serverId }, index) => {
    for (const item of distinct[index] ?? []) {
      const originalUri = uriOf(item);
      const shared = (owners.get(originalUri)?.length ?? 0) > 1;
      const uri = shared ? `${serverId}+${originalUri}` : originalUri;
      const route: ResourceRoute = Object.freeze({ serverId, originalUri });
      const holder = merged.exposed.get(uri);
      if (holder) {
        // Only when a server's own URI already reads `<other-id>+…`: reported, not exposed twice.
        clashes.push(
          `The ${kind} "${originalUri}" of server "${serverId}" would be exposed as "${uri}", ` +
            `which server "${holder.serverId}" already exposes for "${holder.originalUri}"; it is not listed.`,
        );
        continue;
      }
      merged.exposed.set(uri, route);
      if (shared && !merged.sharedBare.has(originalUri)) merged.sharedBare.set(originalUri, route);
      const meta = { ...item._meta, [META_SERVER]: serverId, [META_ORIGINAL_URI]: originalUri };
      merged.items.push(Object.freeze(rebuild(item, uri, Object.freeze(meta))));
      merged.perServer.set(serverId, (merged.perServer.get(serverId) ?? 0) + 1);
    }
  });
  return merged;
}

interface Matcher {
  readonly serverId: string;
  readonly template: UriTemplate;
}

/** Parsed once per build; a template the SDK cannot parse is still listed, just never matched. */
function compileTemplates(sources: readonly CatalogSource[], warnings: string[]): Matcher[] {
  const matchers: Matcher[] = [];
  for (const { serverId, snapshot } of sources) {
    for (const { uriTemplate } of snapshot.resourceTemplates) {
      try {
        matchers.push({ serverId, template: new UriTemplate(uriTemplate) });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        warnings.push(
          `Server "${serverId}" has a resource template "${uriTemplate}" that cannot be parsed: ${reason}.`,
        );
      }
    }
  }
  return matchers;
}

function matches(template: UriTemplate, uri: string): boolean {
  try {
    return template.match(uri) !== null;
  } catch {
    return false; // over the SDK's length limits: not this template
  }
}
