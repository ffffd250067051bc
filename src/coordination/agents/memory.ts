/** In-process agent store: membership plus an expiry time per agent, mirroring the Redis keys. */
import { systemClock, type Clock } from '../types.js';
import type { AgentBackend, AgentRecord } from './types.js';

export class MemoryAgentBackend implements AgentBackend {
  private readonly members = new Set<string>();
  private readonly alive = new Map<string, { record: AgentRecord; expiresAtMs: number }>();
  /** Per agent: the owners present and until when. */
  private readonly owners = new Map<string, Map<string, number>>();

  constructor(private readonly clock: Clock = systemClock) {}

  async heartbeat(record: AgentRecord, ttlMs: number, owner?: string): Promise<boolean> {
    const wasAbsent = this.live(record.agentId) === undefined;
    const expiresAtMs = this.clock.now() + ttlMs;
    this.alive.set(record.agentId, { record, expiresAtMs });
    this.members.add(record.agentId);
    if (wasAbsent) this.owners.delete(record.agentId);
    if (owner !== undefined) {
      const present = this.owners.get(record.agentId) ?? new Map<string, number>();
      present.set(owner, expiresAtMs);
      this.owners.set(record.agentId, present);
    }
    return wasAbsent;
  }

  async remove(agentId: string, owner?: string): Promise<boolean> {
    const present = this.owners.get(agentId);
    if (owner !== undefined && present) {
      present.delete(owner);
      const now = this.clock.now();
      for (const [other, until] of present) if (until <= now) present.delete(other);
      if (present.size > 0) return false;
    }
    this.owners.delete(agentId);
    this.alive.delete(agentId);
    return this.members.delete(agentId);
  }

  async expired(): Promise<string[]> {
    return [...this.members].filter((id) => this.live(id) === undefined);
  }

  async claimExpired(agentId: string): Promise<boolean> {
    if (this.live(agentId) !== undefined) return false;
    this.owners.delete(agentId);
    return this.members.delete(agentId);
  }

  async list(): Promise<AgentRecord[]> {
    return [...this.members]
      .map((id) => this.live(id))
      .filter((record): record is AgentRecord => record !== undefined)
      .sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  async get(agentId: string): Promise<AgentRecord | undefined> {
    return this.live(agentId);
  }

  private live(agentId: string): AgentRecord | undefined {
    const entry = this.alive.get(agentId);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.clock.now()) {
      this.alive.delete(agentId);
      return undefined;
    }
    return entry.record;
  }
}
