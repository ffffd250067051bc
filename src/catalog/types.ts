/**
 * What the catalog takes in (one snapshot per downstream, in config order) and what it gives
 * out: the merged lists the upstream server answers with, and the reverse maps a call is routed
 * by. A Catalog is immutable and rebuilt on every catalog change, never per call.
 */
import type { CacheHint, CachedList } from './cache-hint.js';
import type {
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/server';
import type { DownstreamSnapshot } from '../downstream/types.js';
import type { NameFilter } from './filter.js';
import type { NamespaceOptions } from './naming.js';

/** `_meta` keys the coordinator adds to what it exposes. */
export const META_SERVER = 'coordinator/server';
export const META_ORIGINAL_NAME = 'coordinator/originalName';
export const META_MEMBERS = 'coordinator/members';
export const META_ORIGINAL_URI = 'coordinator/originalUri';

/** The namespace of the built-in tools. */
export const BUILTIN_SERVER_ID = 'coordinator';

/** One downstream server's contribution, in config order. */
export interface CatalogSource {
  readonly serverId: string;
  /** `''` exposes names unprefixed; absent → the server id (or the group id for replicas). */
  readonly prefix?: string;
  /** Servers that share a group are replicas: their tools are exposed once. */
  readonly group?: string;
  /** Applies to tools only, by original name. */
  readonly filter?: NameFilter;
  readonly snapshot: DownstreamSnapshot;
}

/** The coordinator's own tools, exposed as `<serverId><separator><name>` and winning every clash. */
export interface BuiltinTools {
  readonly serverId: string;
  readonly tools: readonly Tool[];
  /** The coordinator's own resource templates, listed before every downstream's. */
  readonly resourceTemplates?: readonly ResourceTemplate[];
  /** URIs that are the coordinator's own (routed to it, never to a downstream). */
  readonly ownsUri?: (uri: string) => boolean;
}

export interface BuildCatalogOptions {
  readonly namespace: NamespaceOptions;
  readonly builtins?: BuiltinTools;
  /** Items per list page; DEFAULT_PAGE_SIZE when absent. */
  readonly pageSize?: number;
}

/** Where an exposed tool or prompt name leads. */
export interface NameRoute {
  readonly originalName: string;
  /** Server ids that have it, in config order (one unless it belongs to a group). */
  readonly members: readonly string[];
  /** Set when the name belongs to a group of replicas. */
  readonly group?: string;
  /** Set for the coordinator's own tools (members is then `[builtins.serverId]`). */
  readonly builtin?: true;
}

/** A tool as found by its original name (for aggregate-style calls). */
export interface NamedMatch extends NameRoute {
  readonly exposedName: string;
}

export interface ResourceRoute {
  readonly serverId: string;
  readonly originalUri: string;
}

export interface ServerCounts {
  readonly tools: number;
  readonly prompts: number;
  readonly resources: number;
  readonly resourceTemplates: number;
}

/** Which list_changed notifications a catalog change calls for. */
export interface CatalogChanges {
  readonly tools: boolean;
  readonly prompts: boolean;
  readonly resources: boolean;
}

/** One page of a list; `page` is frozen and shared between calls: never mutate it. */
export interface ListPage<T> {
  page: T[];
  nextCursor?: string;
}

export interface Catalog {
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  /** Human-readable sentences, one per name clash, for the app to log at load. */
  readonly clashes: readonly string[];
  /** Other oddities worth a log line (duplicates in one server, unparseable templates, …). */
  readonly warnings: readonly string[];
  /** Computed at build time; `catalogDiff` compares these. Resources covers templates too. */
  readonly fingerprints: Readonly<Record<keyof CatalogChanges, string>>;
  readonly pageSize: number;
  resolveTool(exposedName: string): NameRoute | undefined;
  resolvePrompt(exposedName: string): NameRoute | undefined;
  /** Exact URI, then `<server-id>+<uri>`, then the templates (first owner in config order). */
  resolveResource(uri: string): ResourceRoute | undefined;
  /** Every exposed tool whose downstream name is `originalName`, in list order. */
  toolsByOriginalName(originalName: string): readonly NamedMatch[];
  /** Downstream server ids that contributed a snapshot, in config order (built-ins excluded). */
  servers(): readonly string[];
  counts(serverId: string): ServerCounts | undefined;
  /** 2026-07-28 cache fields of a merged list. */
  cacheHint(list: CachedList): CacheHint;
  listTools(cursor?: string): ListPage<Tool>;
  listPrompts(cursor?: string): ListPage<Prompt>;
  listResources(cursor?: string): ListPage<Resource>;
  listResourceTemplates(cursor?: string): ListPage<ResourceTemplate>;
}
