/**
 * The warm catalog: the last snapshot of every downstream, kept on disk so `tools/list` can be
 * answered at once on the next start, while slow servers are still starting.
 *
 * An entry is keyed by server id and valid only for the same `configHash`: a changed command,
 * args, env, cwd, url, transport or headers may well mean different tools. It lives in an LRU in
 * memory and in one small JSON file, written debounced and atomically (tmp + rename), so a
 * crash mid-write or several coordinators sharing the folder never leave a torn file. The file
 * is only ever a hint: a missing, unreadable or corrupt one is skipped with a warning.
 *
 * The file and its folder are owner-only (0600 / 0700), and every entry carries an HMAC of its
 * server id, config hash and snapshot under the per-user key (`cache-key`): a file readable or
 * writable by others, or an entry planted or edited, is ignored with a warning, never served.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { ServerConfig } from '../config/schema.js';
import { type Clock, systemClock } from '../shared/clock.js';
import type { DownstreamSnapshot } from '../downstream/types.js';
import { canonicalJson } from '../shared/canonical-json.js';
import type { Logger } from '../shared/logger.js';
import { assertOwnerOnly } from './cache-key.js';
import { CATALOG_CACHE_FILE } from './cache-location.js';

export { CATALOG_CACHE_FILE };

/** 2: entries carry a `mac`; a version 1 file is ignored (and rewritten). */
const FORMAT_VERSION = 2;

export interface CatalogDiskCacheOptions {
  dir: string;
  logger: Logger;
  /** Signs and checks every entry (`loadCacheKey`). */
  key: Uint8Array;
  /** Quiet time before a change is written; flush() writes at once. */
  debounceMs?: number;
  /** Servers remembered (least recently used dropped first). */
  maxEntries?: number;
  clock?: Clock;
}

interface Entry {
  hash: string;
  savedAt: string;
  snapshot: DownstreamSnapshot;
  /** HMAC of id, hash and snapshot under the cache key. */
  mac: string;
}

const named = z.looseObject({ name: z.string() });
const entrySchema = z.object({
  hash: z.string(),
  savedAt: z.string(),
  mac: z.string(),
  snapshot: z.looseObject({
    serverInfo: z.looseObject({ name: z.string(), version: z.string() }),
    capabilities: z.record(z.string(), z.unknown()),
    instructions: z.string().optional(),
    tools: z.array(named.extend({ inputSchema: z.looseObject({ type: z.literal('object') }) })),
    prompts: z.array(named),
    resources: z.array(named.extend({ uri: z.string() })),
    resourceTemplates: z.array(named.extend({ uriTemplate: z.string() })),
  }),
});
const fileSchema = z.object({ version: z.number(), entries: z.record(z.string(), z.unknown()) });

/** The keys that decide which process or endpoint a server is; the rest is coordinator-side. */
const IDENTITY_KEYS = ['command', 'args', 'env', 'cwd', 'url', 'transport', 'headers'] as const;

/** sha256 of the server's identity keys, in a stable key order (secrets never reach the file). */
export function configHash(config: ServerConfig): string {
  let hash = hashes.get(config);
  if (hash === undefined) {
    const identity: Record<string, unknown> = {};
    for (const key of IDENTITY_KEYS) {
      if (key in config) identity[key] = (config as Record<string, unknown>)[key];
    }
    hash = createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 32);
    hashes.set(config, hash);
  }
  return hash;
}

/** Parsed configs are never mutated (a reload makes new objects): one hash each, not one per rebuild. */
const hashes = new WeakMap<ServerConfig, string>();

export class CatalogDiskCache {
  readonly file: string;
  private readonly entries: LRUCache<string, Entry>;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private cancelWrite: (() => void) | undefined;
  private dirty = false;
  /** Writes run one after another, so the last state always lands last. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: CatalogDiskCacheOptions) {
    this.file = path.join(options.dir, CATALOG_CACHE_FILE);
    this.entries = new LRUCache({ max: options.maxEntries ?? 500 });
    this.clock = options.clock ?? systemClock;
    this.debounceMs = options.debounceMs ?? 250;
  }

  /** Read the file into memory; entries set before it finished win over the file's. */
  async load(): Promise<void> {
    let text: string;
    try {
      const handle = await open(this.file, 'r');
      try {
        assertOwnerOnly(await handle.stat(), this.file);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.options.logger.warn(`catalog cache ${this.file} not trusted, ignored`, { error });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      this.options.logger.warn(`catalog cache ${this.file} is not valid JSON, ignored`, { error });
      return;
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      this.options.logger.warn(`catalog cache ${this.file} has an unknown shape, ignored`);
      return;
    }
    if (parsed.data.version !== FORMAT_VERSION) {
      this.options.logger.debug(`catalog cache ${this.file} is format ${parsed.data.version}, ignored`);
      return;
    }
    const bad: string[] = [];
    const forged: string[] = [];
    // The file lists the most recently used first; insert oldest first to keep that order.
    for (const [id, value] of Object.entries(parsed.data.entries).reverse()) {
      const entry = entrySchema.safeParse(value);
      if (!entry.success) bad.push(id);
      else if (!this.verify(id, entry.data as Entry)) forged.push(id);
      else if (!this.entries.has(id)) this.entries.set(id, entry.data as Entry);
    }
    if (bad.length > 0) {
      this.options.logger.warn(`catalog cache ${this.file}: malformed entries ignored`, { servers: bad });
    }
    if (forged.length > 0) {
      this.options.logger.warn(
        `catalog cache ${this.file}: entries failing the integrity check (planted or edited?) ignored`,
        { servers: forged },
      );
    }
  }

  /** The cached snapshot, if one was saved for this very config. */
  get(id: string, config: ServerConfig): DownstreamSnapshot | undefined {
    const entry = this.entries.get(id);
    return entry && entry.hash === configHash(config) ? entry.snapshot : undefined;
  }

  /** Remember a fresh snapshot; written after the debounce (unchanged snapshots are not rewritten). */
  set(id: string, config: ServerConfig, snapshot: DownstreamSnapshot): void {
    const hash = configHash(config);
    const known = this.entries.get(id);
    if (known && known.hash === hash && isDeepStrictEqual(known.snapshot, snapshot)) return;
    this.entries.set(id, {
      hash,
      savedAt: new Date().toISOString(),
      snapshot,
      mac: this.mac(id, hash, snapshot),
    });
    this.dirty = true;
    this.cancelWrite?.();
    this.cancelWrite = this.clock.setTimer(() => void this.flush(), this.debounceMs);
  }

  /** Write pending changes now (the app calls it on shutdown). Never throws: the cache is a hint. */
  flush(): Promise<void> {
    this.cancelWrite?.();
    this.cancelWrite = undefined;
    if (this.dirty) {
      this.dirty = false;
      const body = this.serialize();
      this.writing = this.writing.then(() => this.write(body));
    }
    return this.writing;
  }

  private mac(id: string, hash: string, snapshot: DownstreamSnapshot): string {
    return createHmac('sha256', this.options.key).update(canonicalJson({ id, hash, snapshot })).digest('hex');
  }

  private verify(id: string, entry: Entry): boolean {
    const expected = Buffer.from(this.mac(id, entry.hash, entry.snapshot), 'hex');
    const given = Buffer.from(entry.mac, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private serialize(): string {
    const entries: Record<string, Entry> = {};
    for (const [id, entry] of this.entries.entries()) entries[id] = entry;
    return `${JSON.stringify({ version: FORMAT_VERSION, entries })}\n`;
  }

  private async write(body: string): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    try {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, body, { encoding: 'utf8', mode: 0o600 });
      await rename(tmp, this.file);
    } catch (error) {
      this.options.logger.warn(`catalog cache ${this.file} not written`, { error });
      await unlink(tmp).catch(() => {});
    }
  }
}
