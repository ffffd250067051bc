/**
 * Agents: each coordinator registers the agent it serves and keeps a key alive with heartbeats.
 * When the key expires (the coordinator died or lost its link) another coordinator notices,
 * announces `agent:left` exactly once and releases what the agent held.
 */
export type ClientInfo = Record<string, unknown> & { name?: string; version?: string };

/** `working` while the agent holds a task (set by its claims), `idle` after; the rest by hand. */
export const AGENT_STATUSES = ['idle', 'working', 'busy', 'away'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** What register_agent sets. */
export interface AgentProfile {
  capabilities: string[];
  status: AgentStatus;
  metadata: Record<string, unknown>;
}

export interface AgentRecord extends AgentProfile {
  agentId: string;
  clientInfo: ClientInfo;
  /** The coordinator (instance id) that registered it. */
  source: string;
  /** ISO-8601. */
  registeredAt: string;
  lastSeen: string;
}

export interface AgentBackend {
  /**
   * Write the agent with expiry `ttlMs` and make it a member; true when its key was absent. With
   * `owner` (a coordinator process acting as the agent), that owner is present until `ttlMs` too.
   */
  heartbeat(record: AgentRecord, ttlMs: number, owner?: string): Promise<boolean>;
  /**
   * Explicit leave. With `owner`: that owner leaves, and the agent goes only when no other owner
   * is still present (two windows started with one agent id are one agent until both have left).
   * True when the agent went and was a member, so exactly one caller announces `agent:left`.
   */
  remove(agentId: string, owner?: string): Promise<boolean>;
  /** Members whose key has expired. */
  expired(): Promise<string[]>;
  /**
   * Take the duty of announcing an expired agent: true for exactly one caller, and only while the
   * agent is still expired (a heartbeat that came back in time wins).
   */
  claimExpired(agentId: string): Promise<boolean>;
  /** Live agents. */
  list(): Promise<AgentRecord[]>;
  /** One live agent. */
  get(agentId: string): Promise<AgentRecord | undefined>;
}

export const DEFAULT_PROFILE: AgentProfile = { capabilities: [], status: 'idle', metadata: {} };

/** A stored record, with the profile fields a record of an older coordinator lacks. */
export function normalizeAgent(raw: Partial<AgentRecord>): AgentRecord | undefined {
  if (typeof raw !== 'object' || raw === null || typeof raw.agentId !== 'string') return undefined;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    ...raw,
    agentId: raw.agentId,
    clientInfo: isObject(raw.clientInfo) ? raw.clientInfo : {},
    source: String(raw.source ?? ''),
    registeredAt: String(raw.registeredAt ?? ''),
    lastSeen: String(raw.lastSeen ?? ''),
    capabilities: Array.isArray(raw.capabilities) ? raw.capabilities.map(String) : [],
    status: AGENT_STATUSES.includes(raw.status as AgentStatus) ? (raw.status as AgentStatus) : 'idle',
    metadata: isObject(raw.metadata) ? raw.metadata : {},
  };
}
