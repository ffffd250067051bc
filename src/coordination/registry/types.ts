/**
 * The server registry: which downstream servers each coordinator runs, with their tools and
 * status, so `coordinator__servers` can show the servers of every coordinator on one Redis.
 *
 * Keyed by server id, as the contract fixes (`<prefix>servers:registry`, field = server id). Two
 * coordinators running a server with the same id therefore share one entry: the last writer wins
 * and `owner` says whose view it is. Removal only deletes an entry its caller still owns, so a
 * coordinator shutting down does not erase another's live server.
 */
export interface ServerRegistryEntry {
  serverId: string;
  name: string;
  version: string;
  /** Tool names as the server offers them. */
  tools: string[];
  /** The connection status as the owning coordinator sees it (connected, restarting, …). */
  status: string;
  /** ISO-8601. */
  lastSeen: string;
  transport: string;
  /** The server's MCP era (`legacy` | `modern`), null before it first connected. */
  era?: string | null;
  /** The coordinator that wrote the entry (its instance id). */
  owner: string;
  /** With `coordination.secret`: HMAC of the rest, so a forged entry in Redis is not shown. */
  signature?: string;
}

export type ServerRegistration = Omit<ServerRegistryEntry, 'owner' | 'lastSeen'> & { lastSeen?: string };

export interface RegistryBackend {
  /** Write the entry; returns the one it replaced. */
  upsert(entry: ServerRegistryEntry): Promise<ServerRegistryEntry | undefined>;
  list(): Promise<ServerRegistryEntry[]>;
  /** Delete the entry only when `owner` still owns it. */
  remove(serverId: string, owner: string): Promise<boolean>;
}
