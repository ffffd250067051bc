/**
 * Opt-in cache of tool results, for tools a server's config declares idempotent:
 * `cache: { ttlMs, tools: [original names] }`. Never on by default, never for an `isError`
 * result (a failure must be retried, not replayed). Keyed by server id, original tool name and
 * the arguments as stable JSON, so `{a,b}` and `{b,a}` share an entry. Bounded by an LRU; expiry
 * is checked against the injected clock on read, so no timers are involved.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { LRUCache } from 'lru-cache';
import { canonicalJson } from '../shared/canonical-json.js';

export interface CacheSpec {
  ttlMs: number;
  tools: readonly string[];
}

/** Any map of server id → config with an optional cache spec (Config['servers'] fits). */
export type CacheSpecs = Readonly<Record<string, { readonly cache?: CacheSpec | undefined }>>;

export interface ResultCacheOptions {
  servers: CacheSpecs;
  /** Results kept across all servers (least recently used dropped first). */
  maxEntries?: number;
  clock?: { now(): number };
}

export interface ResultCacheStats {
  hits: number;
  misses: number;
  /** Results held, counting expired ones not yet read or evicted. */
  entries: number;
}

interface Entry {
  serverId: string;
  tool: string;
  expiresAt: number;
  result: CallToolResult;
}

export class ResultCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly clock: { now(): number };
  private specs = new Map<string, { ttlMs: number; tools: ReadonlySet<string> }>();
  private hits = 0;
  private misses = 0;

  constructor(options: ResultCacheOptions) {
    this.entries = new LRUCache({ max: options.maxEntries ?? 1_000 });
    this.clock = options.clock ?? { now: () => performance.now() };
    this.configure(options.servers);
  }

  /** Live reload: take the new specs; a server whose spec changed or went away is emptied. */
  configure(servers: CacheSpecs): void {
    const next = new Map<string, { ttlMs: number; tools: ReadonlySet<string> }>();
    for (const [id, server] of Object.entries(servers)) {
      if (server.cache) next.set(id, { ttlMs: server.cache.ttlMs, tools: new Set(server.cache.tools) });
    }
    for (const [id, spec] of this.specs) {
      const now = next.get(id);
      const same =
        now !== undefined &&
        now.ttlMs === spec.ttlMs &&
        now.tools.size === spec.tools.size &&
        [...now.tools].every((t) => spec.tools.has(t));
      if (!same) this.invalidate(id);
    }
    this.specs = next;
  }

  shouldCache(serverId: string, tool: string): boolean {
    return this.specs.get(serverId)?.tools.has(tool) ?? false;
  }

  /** A fresh cached result (a copy), or undefined. Only cacheable tools count as hit or miss. */
  get(serverId: string, tool: string, args: Record<string, unknown> | undefined): CallToolResult | undefined {
    if (!this.shouldCache(serverId, tool)) return undefined;
    const key = cacheKey(serverId, tool, args);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.clock.now()) {
      this.hits++;
      return structuredClone(entry.result);
    }
    if (entry) this.entries.delete(key);
    this.misses++;
    return undefined;
  }

  /** Store the downstream's result (before routing metadata is added); isError results never. */
  set(
    serverId: string,
    tool: string,
    args: Record<string, unknown> | undefined,
    result: CallToolResult,
  ): void {
    const spec = this.specs.get(serverId);
    if (!spec?.tools.has(tool) || result.isError === true) return;
    this.entries.set(cacheKey(serverId, tool, args), {
      serverId,
      tool,
      expiresAt: this.clock.now() + spec.ttlMs,
      // A copy: the caller goes on to decorate and send the object it holds.
      result: structuredClone(result),
    });
  }

  /** Drop every result of one server (e.g. it restarted with another config). */
  invalidate(serverId: string): void {
    this.invalidateWhere((id) => id === serverId);
  }

  /** Drop the results of the (server, original tool name) pairs `match` accepts; returns how many. */
  invalidateWhere(match: (serverId: string, tool: string) => boolean): number {
    // Collected first: deleting while the LRU iterates would skip entries.
    const doomed = [...this.entries.entries()].filter(([, e]) => match(e.serverId, e.tool)).map(([k]) => k);
    for (const key of doomed) this.entries.delete(key);
    return doomed.length;
  }

  stats(): ResultCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size };
  }
}

/** `undefined` and `{}` arguments are the same call. */
function cacheKey(serverId: string, tool: string, args: Record<string, unknown> | undefined): string {
  return JSON.stringify([serverId, tool, canonicalJson(args ?? {})]);
}
