/**
 * The registry as the coordinator uses it: entries stamped with this coordinator as owner and the
 * time, plus `server:registered` (an entry new to this owner) and `tools:changed` (its tool list
 * differs from what this owner wrote before) — the store sees both the old and the new value,
 * so this is the one place that can tell.
 */
import { checkSignature, signRecord } from '../events.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { systemClock, type Clock, type EventBus } from '../types.js';
import type { RegistryBackend, ServerRegistration, ServerRegistryEntry } from './types.js';

export interface RegistryOptions {
  backend: RegistryBackend;
  bus: EventBus;
  /** This coordinator's instance id. */
  owner: string;
  clock?: Clock;
  /** `coordination.secret`: entries are signed, and unsigned or forged ones are not listed. */
  secret?: string;
  logger?: Logger;
}

export class Registry {
  private readonly clock: Clock;
  /** Server ids this coordinator wrote, removed again on close. */
  private readonly owned = new Set<string>();

  constructor(private readonly options: RegistryOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get owner(): string {
    return this.options.owner;
  }

  async upsert(registration: ServerRegistration): Promise<ServerRegistryEntry> {
    const entry: ServerRegistryEntry = {
      ...registration,
      tools: [...registration.tools],
      lastSeen: registration.lastSeen ?? new Date(this.clock.now()).toISOString(),
      owner: this.options.owner,
    };
    const { secret } = this.options;
    const previous = await this.options.backend.upsert(
      secret === undefined ? entry : signRecord(entry, secret),
    );
    this.owned.add(entry.serverId);
    const { serverId, name, version, status, transport, owner } = entry;
    if (!previous || previous.owner !== entry.owner) {
      this.options.bus.publish({
        type: 'server:registered',
        data: { serverId, name, version, status, transport, owner, tools: entry.tools },
      });
    } else if (!sameTools(previous.tools, entry.tools)) {
      const before = new Set(previous.tools);
      const after = new Set(entry.tools);
      this.options.bus.publish({
        type: 'tools:changed',
        data: {
          serverId,
          owner,
          tools: entry.tools,
          added: entry.tools.filter((t) => !before.has(t)),
          removed: previous.tools.filter((t) => !after.has(t)),
        },
      });
    }
    return entry;
  }

  /** Every coordinator's servers; `owner` tells whose. Signed: only entries whose signature holds. */
  async list(): Promise<ServerRegistryEntry[]> {
    const entries = await this.options.backend.list();
    const { secret } = this.options;
    if (secret === undefined) return entries;
    const trusted: ServerRegistryEntry[] = [];
    const refused: string[] = [];
    for (const entry of entries) {
      if (checkSignature(entry, secret) !== 'ok') refused.push(entry.serverId);
      else {
        const { signature: _signature, ...shown } = entry;
        trusted.push(shown);
      }
    }
    if (refused.length > 0) {
      (this.options.logger ?? silentLogger).warn('registry entries without a valid signature not shown', {
        servers: refused,
      });
    }
    return trusted;
  }

  async remove(serverId: string): Promise<boolean> {
    this.owned.delete(serverId);
    return this.options.backend.remove(serverId, this.options.owner);
  }

  /** Remove the entries this coordinator still owns (clean shutdown). */
  async removeOwned(): Promise<void> {
    for (const serverId of [...this.owned]) await this.remove(serverId);
  }
}

function sameTools(a: unknown, b: string[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((tool, i) => tool === sorted[i]);
}
