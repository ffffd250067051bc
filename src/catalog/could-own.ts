/**
 * Which servers could expose a tool or prompt name, from their config alone (before they have a
 * catalog): a call for `<prefix>__tool` waits only for the servers of that namespace, and a name
 * no server could expose is answered at once.
 */
import { mayBeUnder, type NamespaceOptions } from './naming.js';

/** The config keys of a server that decide its namespaces. */
export interface NamespaceOwner {
  readonly id: string;
  /** `''` exposes names unprefixed; absent → the server id (or the group's prefix). */
  readonly prefix?: string | undefined;
  readonly group?: string | undefined;
}

/**
 * Every namespace a server's names may appear under: its prefix, or for a replica its group's
 * (the first explicit prefix among the members, else the group id: every member's prefix is
 * counted, waiting a little more is harmless), and the owner id a clash loser is exposed under.
 */
export function namespacesOf(server: NamespaceOwner, peers: readonly NamespaceOwner[]): Set<string> {
  if (server.group === undefined) return new Set([server.prefix ?? server.id, server.id]);
  const namespaces = new Set([server.group, server.id]);
  for (const peer of peers) {
    if (peer.group === server.group && peer.prefix !== undefined) namespaces.add(peer.prefix);
  }
  return namespaces;
}

/** Could `server` expose `name`? An unprefixed server could expose any name. */
export function couldExpose(
  name: string,
  server: NamespaceOwner,
  peers: readonly NamespaceOwner[],
  opts: NamespaceOptions,
): boolean {
  for (const namespace of namespacesOf(server, peers)) {
    if (mayBeUnder(name, namespace, opts)) return true;
  }
  return false;
}
