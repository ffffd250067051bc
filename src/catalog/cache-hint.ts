/**
 * The cache fields of a merged list (2026-07-28 `ttlMs` / `cacheScope`): the smallest ttl of the
 * servers that contributed, and `private` if any of them is private or did not say (a legacy
 * server never does). The coordinator's own built-ins change only with the config: no limit.
 */
import type { CatalogSource } from './types.js';

export type CachedList = 'tools' | 'prompts' | 'resources';

export interface CacheHint {
  ttlMs: number;
  cacheScope: 'public' | 'private';
}

export function mergedCacheHint(sources: readonly CatalogSource[], list: CachedList): CacheHint {
  let ttlMs = Number.POSITIVE_INFINITY;
  let cacheScope: CacheHint['cacheScope'] = 'public';
  for (const source of sources) {
    const hint = source.snapshot.cacheHints?.[list];
    if (!hint) return { ttlMs: 0, cacheScope: 'private' };
    ttlMs = Math.min(ttlMs, hint.ttlMs);
    if (hint.cacheScope !== 'public') cacheScope = 'private';
  }
  return { ttlMs: Number.isFinite(ttlMs) ? ttlMs : 0, cacheScope };
}
