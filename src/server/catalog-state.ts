/**
 * The live catalog: rebuilt (once per burst of changes, not per call) whenever a downstream
 * connects or announces list_changed, and compared with the previous one so the upstream client
 * is told exactly which lists changed.
 */
import { EventEmitter } from 'node:events';
import type { CacheHint, CachedList } from '../catalog/cache-hint.js';
import type { Tool } from '@modelcontextprotocol/server';
import { catalogDiff } from '../catalog/diff.js';
import { couldExpose } from '../catalog/could-own.js';
import { catalogSource } from '../catalog/from-config.js';
import { buildCatalog } from '../catalog/merge.js';
import {
  BUILTIN_SERVER_ID,
  type BuiltinTools,
  type Catalog,
  type CatalogChanges,
  type CatalogSource,
} from '../catalog/types.js';
import type { NamespaceOptions } from '../catalog/naming.js';
import type { DownstreamPool } from '../downstream/pool.js';
import type { Downstream, DownstreamSnapshot } from '../downstream/types.js';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';

export type PoolView = Pick<DownstreamPool, 'all' | 'on'>;

export interface CatalogStateOptions {
  pool: PoolView;
  namespace: NamespaceOptions;
  builtinTools: readonly Tool[];
  /** The coordinator's own resource templates and the URIs it answers for itself. */
  builtinResources?: Pick<BuiltinTools, 'resourceTemplates' | 'ownsUri'>;
  logger: Logger;
  /**
   * The last catalog seen of a server that has not connected yet (the warm on-disk catalog), so
   * an IDE's first tools/list is complete while slow servers start.
   */
  cached?: (id: string, config: ServerConfig) => DownstreamSnapshot | undefined;
  /**
   * `startupWaitMs`: until this long after start, a list waits for eager servers that are starting
   * and of which nothing is known yet (no warm catalog), so a client that lists once sees them.
   */
  startupWaitMs?: number;
}

/** How long a call for a name nobody has yet waits for servers still starting. */
const NAME_WAIT_MS = 30_000;

export class CatalogState extends EventEmitter<{ changed: [CatalogChanges] }> {
  private catalog: Catalog;
  private scheduled = false;
  /** Each waiter with what it waits for: it is woken once that is false (or on its timeout). */
  private readonly settleWaiters = new Map<() => void, () => boolean>();
  private readonly listWaiters = new Set<() => void>();
  private readonly startedAt = Date.now();
  private readonly reportedClashes = new Set<string>();

  constructor(private readonly options: CatalogStateOptions) {
    super();
    this.catalog = this.build();
    options.pool.on('catalog', () => this.schedule());
    // Settled is checked only after the rebuild, so a waiter never looks at a stale catalog.
    options.pool.on('status', () => this.schedule());
  }

  get current(): Catalog {
    return this.catalog;
  }

  /**
   * The cache fields of a merged list for modern clients. While any server is not connected
   * (starting, restarting, down, idle) the list can change without the servers' own ttl saying
   * so: nothing may be cached then.
   */
  cacheHint(list: CachedList): CacheHint {
    if (this.options.pool.all().some((d) => d.status !== 'connected'))
      return { ttlMs: 0, cacheScope: 'private' };
    return this.catalog.cacheHint(list);
  }

  /** True while an eager server is starting for the first time (its names may still appear). */
  isSettling(): boolean {
    return this.options.pool.all().some(firstStart);
  }

  /**
   * The servers that could expose a tool or prompt `name`, by their namespaces (the unprefixed
   * ones could expose any name): the only ones a lookup of `name` waits for.
   */
  couldOwn(name: string): Downstream[] {
    const all = this.options.pool.all();
    const peers = all.map((d) => ({ id: d.id, prefix: d.config.prefix, group: d.config.group }));
    return all.filter((d, i) => couldExpose(name, peers[i]!, peers, this.options.namespace));
  }

  /** A server starting for the first time of which not even a cached catalog is known. */
  private unknownStarting(): boolean {
    return this.options.pool
      .all()
      .some(
        (d) =>
          d.status === 'starting' &&
          d.snapshot === undefined &&
          d.config.startup !== 'lazy' &&
          this.options.cached?.(d.id, d.config) === undefined,
      );
  }

  /**
   * Before answering a list: within `startupWaitMs` of start, wait for the servers still starting
   * that nothing is known of (bounded by that same deadline). Later lists never wait.
   */
  beforeList(): Promise<void> {
    const left = this.startedAt + (this.options.startupWaitMs ?? 0) - Date.now();
    if (left <= 0 || !this.unknownStarting()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, left);
      timer.unref();
      this.listWaiters.add(done);
    });
  }

  /** Rebuild soon (coalesced), e.g. after the config changed what is exposed. */
  invalidate(): void {
    this.schedule();
  }

  /** Resolves when nothing is settling any more, or after timeoutMs. */
  settled(timeoutMs: number): Promise<void> {
    return this.until(() => this.isSettling(), timeoutMs);
  }

  /** Resolves once `pending()` is false after a rebuild, or after timeoutMs. */
  private until(pending: () => boolean, timeoutMs: number): Promise<void> {
    if (!pending()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.settleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.settleWaiters.set(done, pending);
    });
  }

  /**
   * Look something up in the catalog; if it is not there while a server is still starting for
   * the first time, wait (bounded) for the catalog to settle and look once more. With the tool or
   * prompt `name` looked up, only the servers that could expose it are waited for (one stuck in
   * `initialize` does not hold calls to the others), and nobody's name is answered at once (after
   * a rebuild already scheduled, so a server that has just connected is looked at).
   */
  async find<T>(
    lookup: (catalog: Catalog) => T | undefined,
    name?: string,
    waitMs = NAME_WAIT_MS,
  ): Promise<T | undefined> {
    const found = lookup(this.catalog);
    if (found !== undefined) return found;
    const starting =
      name === undefined ? () => this.isSettling() : () => this.couldOwn(name).some(firstStart);
    // A server that connected a moment ago is in the catalog only after the scheduled rebuild.
    const pending = () => this.scheduled || starting();
    if (!pending()) return found;
    await this.until(pending, waitMs);
    return lookup(this.catalog);
  }

  /** Rebuild now (used at start and by tests); normally changes are coalesced by schedule(). */
  rebuild(): CatalogChanges {
    const next = this.build();
    const changes = catalogDiff(this.catalog, next);
    this.catalog = next;
    for (const clash of [...next.clashes, ...next.warnings]) {
      if (this.reportedClashes.has(clash)) continue;
      this.reportedClashes.add(clash);
      this.options.logger.warn(clash);
    }
    if (changes.tools || changes.prompts || changes.resources) this.emit('changed', changes);
    return changes;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Coalesce a burst (ten servers connecting at once) into one rebuild and one notification.
    setImmediate(() => {
      this.scheduled = false;
      this.rebuild();
      this.checkSettled();
    });
  }

  private checkSettled(): void {
    if (this.listWaiters.size > 0 && !this.unknownStarting()) {
      for (const done of [...this.listWaiters]) done();
    }
    for (const [done, pending] of [...this.settleWaiters]) if (!pending()) done();
  }

  private build(): Catalog {
    const sources: CatalogSource[] = [];
    for (const d of this.options.pool.all()) {
      const snapshot = d.snapshot ?? this.options.cached?.(d.id, d.config);
      if (snapshot) sources.push(catalogSource(d.id, d.config, snapshot));
    }
    return buildCatalog(sources, {
      namespace: this.options.namespace,
      builtins: {
        serverId: BUILTIN_SERVER_ID,
        tools: this.options.builtinTools,
        ...this.options.builtinResources,
      },
    });
  }
}

/** Starting for the first time: nothing of its catalog is known yet, its names may still appear. */
function firstStart(d: Downstream): boolean {
  return d.status === 'starting' && d.snapshot === undefined;
}
