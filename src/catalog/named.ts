/**
 * The merge shared by tools and prompts: items of every owner (a plain server, a group of
 * replicas, or the built-ins) get an exposed name, a description and coordinator `_meta`, and
 * the reverse map from exposed name to route is built. Clashes are resolved in two passes so a
 * disambiguated name can never take the natural name of a later owner: first every item claims
 * its natural name (first in config order wins), then each loser gets `<owner-id><sep><name>`,
 * hashed when that is taken too.
 */
import { exposedName, hashedName, type NamespaceOptions } from './naming.js';
import { META_MEMBERS, META_ORIGINAL_NAME, META_SERVER, type NameRoute, type NamedMatch } from './types.js';

export interface NamedItem {
  name: string;
  description?: string;
  _meta?: { [key: string]: unknown };
}

/** A namespace: one server, one group of replicas, or the built-ins. */
export interface Owner<T> {
  readonly id: string;
  readonly kind: 'server' | 'group' | 'built-in';
  readonly prefix: string;
  /** In config order; items already filtered. */
  readonly members: ReadonlyArray<{ readonly serverId: string; readonly items: readonly T[] }>;
}

export interface NamedMerge<T> {
  readonly items: readonly T[];
  readonly routes: ReadonlyMap<string, NameRoute>;
  readonly byOriginal: ReadonlyMap<string, readonly NamedMatch[]>;
  /** Per server id: how many exposed items route to it. */
  readonly perServer: ReadonlyMap<string, number>;
  readonly clashes: readonly string[];
  readonly warnings: readonly string[];
}

interface Entry<T> {
  readonly owner: Owner<T>;
  readonly original: string;
  /** The definition of the first member (config order) that has it. */
  readonly item: T;
  readonly members: string[];
  name: string;
}

/** `kind` is the word used in clash sentences: "tool" or "prompt". */
export function mergeNamed<T extends NamedItem>(
  owners: ReadonlyArray<Owner<T>>,
  opts: NamespaceOptions,
  kind: string,
): NamedMerge<T> {
  const warnings: string[] = [];
  const entries = collectEntries(owners, kind, warnings);
  const clashes = assignNames(entries, opts, kind);

  const items: T[] = [];
  const routes = new Map<string, NameRoute>();
  const byOriginal = new Map<string, NamedMatch[]>();
  const perServer = new Map<string, number>();
  for (const entry of entries) {
    const members = Object.freeze([...entry.members]);
    const group = entry.owner.kind === 'group' ? entry.owner.id : undefined;
    items.push(expose(entry, members));
    const route: NamedMatch = Object.freeze({
      exposedName: entry.name,
      originalName: entry.original,
      members,
      ...(group === undefined ? {} : { group }),
      ...(entry.owner.kind === 'built-in' ? { builtin: true as const } : {}),
    });
    routes.set(entry.name, route);
    const sameOriginal = byOriginal.get(entry.original);
    if (sameOriginal) sameOriginal.push(route);
    else byOriginal.set(entry.original, [route]);
    for (const id of members) perServer.set(id, (perServer.get(id) ?? 0) + 1);
  }
  for (const list of byOriginal.values()) Object.freeze(list);
  return {
    items: Object.freeze(items),
    routes,
    byOriginal,
    perServer,
    clashes: Object.freeze(clashes),
    warnings: Object.freeze(warnings),
  };
}

/** One entry per (owner, original name), in config order; replicas add themselves as members. */
function collectEntries<T extends NamedItem>(
  owners: ReadonlyArray<Owner<T>>,
  kind: string,
  warnings: string[],
): Entry<T>[] {
  const entries: Entry<T>[] = [];
  for (const owner of owners) {
    const byOriginal = new Map<string, Entry<T>>();
    for (const { serverId, items } of owner.members) {
      const seen = new Set<string>();
      for (const item of items) {
        if (seen.has(item.name)) {
          warnings.push(
            `Server "${serverId}" lists ${kind} "${item.name}" twice; the first definition is used.`,
          );
          continue;
        }
        seen.add(item.name);
        const existing = byOriginal.get(item.name);
        if (existing) {
          existing.members.push(serverId);
          continue;
        }
        const entry: Entry<T> = { owner, original: item.name, item, members: [serverId], name: '' };
        byOriginal.set(item.name, entry);
        entries.push(entry);
      }
    }
  }
  return entries;
}

/** Sets `entry.name` on every entry; returns one sentence per clash. */
function assignNames<T>(entries: Entry<T>[], opts: NamespaceOptions, kind: string): string[] {
  const taken = new Map<string, Entry<T>>();
  const losers: Array<{ entry: Entry<T>; wanted: string; winner: Entry<T> }> = [];
  for (const entry of entries) {
    const wanted = exposedName(entry.owner.prefix, entry.original, opts);
    const winner = taken.get(wanted);
    if (winner) {
      losers.push({ entry, wanted, winner });
    } else {
      entry.name = wanted;
      taken.set(wanted, entry);
    }
  }

  const clashes: string[] = [];
  for (const { entry, wanted, winner } of losers) {
    const { id } = entry.owner;
    let name = exposedName(id, entry.original, opts);
    for (let attempt = 0; taken.has(name); attempt++) name = hashedName(id, entry.original, opts, attempt);
    entry.name = name;
    taken.set(name, entry);
    clashes.push(
      `${capitalize(kind)} "${entry.original}" of ${describe(entry.owner)} clashes with ${kind} ` +
        `"${winner.original}" of ${describe(winner.owner)} on the name "${wanted}"; ` +
        `${describe(winner.owner)} keeps it, ${describe(entry.owner)}'s is exposed as "${name}".`,
    );
  }
  return clashes;
}

/**
 * The exposed objects of earlier builds, per downstream item. Snapshots are replaced, never
 * mutated, so an item whose exposure did not change (same name, owner, members) keeps its
 * frozen object across rebuilds, and with it the JSON `fingerprint` cached for it: a server
 * arriving costs its own items, not the whole catalog again.
 */
const exposedBefore = new WeakMap<object, { key: string; exposed: object }>();

function expose<T extends NamedItem>(entry: Entry<T>, members: readonly string[]): T {
  const { item, owner, original } = entry;
  const key = `${entry.name}\0${owner.kind}\0${owner.id}\0${owner.kind === 'group' ? members.join('\0') : ''}`;
  const before = exposedBefore.get(item);
  if (before?.key === key) return before.exposed as T;
  const meta: Record<string, unknown> = {
    ...item._meta,
    [META_SERVER]: owner.id,
    [META_ORIGINAL_NAME]: original,
  };
  if (owner.kind === 'group') meta[META_MEMBERS] = members;
  const description = item.description?.trim() ? item.description : `${original} (from ${owner.id})`;
  const exposed = Object.freeze({ ...item, name: entry.name, description, _meta: Object.freeze(meta) });
  exposedBefore.set(item, { key, exposed });
  return exposed;
}

function describe(owner: Owner<unknown>): string {
  if (owner.kind === 'group') return `group "${owner.id}"`;
  if (owner.kind === 'built-in') return `the built-in "${owner.id}" namespace`;
  return `server "${owner.id}"`;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
