/**
 * `invalidate_cache`: an agent that changed what a cached tool reads (a file, a record) tells
 * every coordinator to drop the results that could be stale. The pattern is a glob over
 * `<server id><separator><original tool name>` (e.g. `memory__*`, `*__search_*`); the caller's
 * own coordinator drops its entries at once, the others when `cache:invalidate` reaches them.
 *
 * Coordination knows no result cache of its own: the composition root attaches one through the
 * small InvalidatableCache interface (the router's ResultCache fits it).
 */
import { InvalidArgumentError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { LIMITS } from './limits.js';
import type { CoordinationEvent, EventBus } from './types.js';

export interface InvalidatableCache {
  /** Drop the entries `match` accepts; returns how many. */
  invalidateWhere(match: (serverId: string, tool: string) => boolean): number;
}

const GLOB = /^[A-Za-z0-9_.:/@+*?-]+$/;

/**
 * `*` any run of characters, `?` one character, the rest literally. Matched by the two-pointer
 * method (bounded by pattern × name length; no regular expression, so no catastrophic backtracking).
 */
export function compileCachePattern(pattern: unknown): (name: string) => boolean {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > LIMITS.cachePattern) {
    throw new InvalidArgumentError(`pattern: expected a glob of 1 to ${LIMITS.cachePattern} characters`);
  }
  if (!GLOB.test(pattern)) {
    throw new InvalidArgumentError(
      `pattern: ${JSON.stringify(pattern)} is not a valid glob: use letters, digits, _ . : / @ + - and the wildcards * and ?`,
    );
  }
  return (name) => wildcard(pattern, name);
}

function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

export interface CacheInvalidationOptions {
  bus: EventBus;
  /** This coordinator's event source: its own events were applied when published. */
  source: string;
  logger?: Logger;
}

export class CacheInvalidation {
  private readonly caches = new Set<{ cache: InvalidatableCache; separator: string }>();
  private readonly unsubscribe: () => void;
  private readonly logger: Logger;

  constructor(private readonly options: CacheInvalidationOptions) {
    this.logger = (options.logger ?? silentLogger).child('cache-invalidation');
    this.unsubscribe = options.bus.subscribe((event) => this.onEvent(event), 'cache:invalidate');
  }

  /** Follow `cache:invalidate` for this cache (tool names joined by `separator`). */
  attach(cache: InvalidatableCache, separator: string): () => void {
    const entry = { cache, separator };
    this.caches.add(entry);
    return () => this.caches.delete(entry);
  }

  /** Drop matching entries here, tell every other coordinator. Returns the count dropped here. */
  invalidate(pattern: string, agentId: string, reason?: string): { pattern: string; dropped: number } {
    const match = compileCachePattern(pattern);
    if (reason !== undefined && reason.length > LIMITS.reason) {
      throw new InvalidArgumentError(`reason: at most ${LIMITS.reason} characters`);
    }
    const dropped = this.drop(match);
    this.options.bus.publish({
      type: 'cache:invalidate',
      agentId,
      data: { pattern, ...(reason !== undefined && { reason }) },
    });
    return { pattern, dropped };
  }

  close(): void {
    this.unsubscribe();
    this.caches.clear();
  }

  private onEvent(event: CoordinationEvent): void {
    if (event.source === this.options.source) return;
    try {
      const dropped = this.drop(compileCachePattern(event.data.pattern));
      this.logger.debug('cache invalidated', { pattern: event.data.pattern, dropped, by: event.agentId });
    } catch (error) {
      this.logger.warn('cache:invalidate ignored', { error, by: event.agentId });
    }
  }

  private drop(match: (name: string) => boolean): number {
    let dropped = 0;
    for (const { cache, separator } of this.caches) {
      dropped += cache.invalidateWhere((serverId, tool) => match(`${serverId}${separator}${tool}`));
    }
    return dropped;
  }
}
