/**
 * Agents: each coordinator registers the agent it serves and keeps a key alive with heartbeats.
 * When the key expires (the coordinator died or lost its link) another coordinator notices,
 * announces `agent:left` exactly once and releases what the agent held.
 */
export type ClientInfo = Record<string, unknown> & { name?: string; version?: string };

export interface AgentRecord {
  agentId: string;
  clientInfo: ClientInfo;
  /** The coordinator (instance id) that registered it. */
  source: string;
  /** ISO-8601. */
  registeredAt: string;
  lastSeen: string;
}

export interface AgentBackend {
  /** Write the agent with expiry `ttlMs` and make it a member; true when its key was absent. */
  heartbeat(record: AgentRecord, ttlMs: number): Promise<boolean>;
  /** Remove the agent (explicit leave); true when it was a member, so one caller announces. */
  remove(agentId: string): Promise<boolean>;
  /** Members whose key has expired. */
  expired(): Promise<string[]>;
  /**
   * Take the duty of announcing an expired agent: true for exactly one caller, and only while the
   * agent is still expired (a heartbeat that came back in time wins).
   */
  claimExpired(agentId: string): Promise<boolean>;
  /** Live agents. */
  list(): Promise<AgentRecord[]>;
}
