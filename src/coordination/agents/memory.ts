/** In-process agent store: membership plus an expiry time per agent, mirroring the Redis keys. */
import { systemClock, type Clock } from '../types.js';
import type { AgentBackend, AgentRecord } from './types.js';

export class MemoryAgentBackend implements AgentBackend {
  private readonly members = new Set<string>();
  private readonly alive = new Map<string, { record: AgentRecord; expiresAtMs: number }>();

  constructor(private readonly clock: Clock = systemClock) {}

  async heartbeat(record: AgentRecord, ttlMs: number): Promise<boolean> {
    const wasAbsent = this.live(record.agentId) === undefined;
    this.alive.set(record.agentId, { record, expiresAtMs: this.clock.now() + ttlMs });
    this.members.add(record.agentId);
    return wasAbsent;
  }

  async remove(agentId: string): Promise<boolean> {
    this.alive.delete(agentId);
    return this.members.delete(agentId);
  }

  async expired(): Promise<string[]> {
    return [...this.members].filter((id) => this.live(id) === undefined);
  }

  async claimExpired(agentId: string): Promise<boolean> {
    if (this.live(agentId) !== undefined) return false;
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
