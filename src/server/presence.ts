/**
 * Which agents are here, from the sessions that act as them: an agent is registered when its
 * first session says who it is (not again for each stateless request), and leaves once no
 * session has acted as it for a while — so a gateway's agent list does not grow with every
 * client that ever connected, and the heartbeat renews only live agents.
 */
export interface PresenceOptions {
  register(agentId: string, clientInfo: { name: string; version?: string } | undefined): void;
  leave(agentId: string): void;
  /** How long an agent with no open session stays (stateless clients have no session to close). */
  idleMs: number;
  now?: () => number;
  /** Agents tracked at most (the least recently seen without an open session go first). */
  maxAgents?: number;
}

interface Entry {
  open: number;
  lastSeen: number;
}

export class AgentPresence {
  private readonly agents = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxAgents: number;

  constructor(private readonly options: PresenceOptions) {
    this.now = options.now ?? Date.now;
    this.maxAgents = options.maxAgents ?? 10_000;
  }

  get size(): number {
    return this.agents.size;
  }

  /** A session acts as `agentId`; `lasting`: it stays open until `closed` is called for it. */
  seen(agentId: string, clientInfo: { name: string; version?: string } | undefined, lasting: boolean): void {
    let entry = this.agents.get(agentId);
    if (!entry) {
      this.evict();
      entry = { open: 0, lastSeen: 0 };
      this.agents.set(agentId, entry);
      this.options.register(agentId, clientInfo);
    }
    if (lasting) entry.open++;
    entry.lastSeen = this.now();
  }

  closed(agentId: string): void {
    const entry = this.agents.get(agentId);
    if (!entry) return;
    entry.open = Math.max(0, entry.open - 1);
    entry.lastSeen = this.now();
  }

  /** Agents with no open session, idle for longer than allowed, leave. */
  sweep(): string[] {
    const cutoff = this.now() - this.options.idleMs;
    const gone: string[] = [];
    for (const [agentId, entry] of this.agents) {
      if (entry.open > 0 || entry.lastSeen > cutoff) continue;
      this.agents.delete(agentId);
      this.options.leave(agentId);
      gone.push(agentId);
    }
    return gone;
  }

  private evict(): void {
    if (this.agents.size < this.maxAgents) return;
    let oldest: [string, Entry] | undefined;
    for (const item of this.agents) {
      if (item[1].open === 0 && (!oldest || item[1].lastSeen < oldest[1].lastSeen)) oldest = item;
    }
    if (oldest) {
      this.agents.delete(oldest[0]);
      this.options.leave(oldest[0]);
    }
  }
}
