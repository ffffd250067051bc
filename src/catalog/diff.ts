/**
 * Which list_changed notifications a new catalog calls for. Each list is fingerprinted once, at
 * build time, over everything a client sees of it, so the comparison is three string equalities.
 */
import { createHash } from 'node:crypto';
import type { Catalog, CatalogChanges } from './types.js';

/** JSON of frozen list items (the exposed tools and prompts, reused across rebuilds). */
const itemJson = new WeakMap<object, string>();

export function fingerprint(list: readonly unknown[]): string {
  const hash = createHash('sha256').update(`${list.length}\n`);
  for (const item of list) hash.update(jsonOf(item)).update('\n');
  return hash.digest('base64url');
}

function jsonOf(item: unknown): string {
  if (typeof item !== 'object' || item === null || !Object.isFrozen(item)) return JSON.stringify(item) ?? '';
  let json = itemJson.get(item);
  if (json === undefined) itemJson.set(item, (json = JSON.stringify(item)));
  return json;
}

/** What a client saw before any catalog existed: empty lists. */
const EMPTY = fingerprint([]);

/**
 * `prev === undefined` compares with empty lists: the first catalog notifies for the lists that
 * are not empty (a client may have listed before the first downstream connected).
 */
export function catalogDiff(prev: Catalog | undefined, next: Catalog): CatalogChanges {
  return {
    tools: (prev?.fingerprints.tools ?? EMPTY) !== next.fingerprints.tools,
    prompts: (prev?.fingerprints.prompts ?? EMPTY) !== next.fingerprints.prompts,
    resources: (prev?.fingerprints.resources ?? EMPTY) !== next.fingerprints.resources,
  };
}
