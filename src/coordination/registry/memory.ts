/** In-process registry: a Map standing in for the Redis hash. */
import type { RegistryBackend, ServerRegistryEntry } from './types.js';

export class MemoryRegistryBackend implements RegistryBackend {
  private readonly entries = new Map<string, ServerRegistryEntry>();

  async upsert(entry: ServerRegistryEntry): Promise<ServerRegistryEntry | undefined> {
    const previous = this.entries.get(entry.serverId);
    this.entries.set(entry.serverId, entry);
    return previous;
  }

  async list(): Promise<ServerRegistryEntry[]> {
    return [...this.entries.values()].sort((a, b) => a.serverId.localeCompare(b.serverId));
  }

  async remove(serverId: string, owner: string): Promise<boolean> {
    if (this.entries.get(serverId)?.owner !== owner) return false;
    return this.entries.delete(serverId);
  }
}
