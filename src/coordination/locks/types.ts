/**
 * File locks: the shapes, and the backend interface that the memory and Redis stores both honour.
 * Backends store and compare; events and expiry tracking live in `Locks` (service.ts) above them.
 * Paths are already normalized (see ../paths.ts) when they reach this layer.
 *
 * A holder is an agent id plus, optionally, an owner token: the coordinator process (or library
 * client) the lock was taken through. Two IDE windows started with one `MCP_AGENT_ID` are two
 * holders — neither releases nor extends the other's lock, and one ending frees only its own.
 * The agent id is what everyone sees (results, events); the token only tells sessions of one agent
 * apart (it authorizes nothing and is never shown). A record without an owner (written before
 * owners existed, or by a caller without one) belongs to every session of its agent.
 */
export interface LockRecord {
  /** Normalized path, relative to the workspace root. */
  file: string;
  /** The agent that holds it. */
  holder: string;
  /**
   * Which session of `holder` holds it (its coordinator's owner token); absent: any session of
   * that agent. Stored in the Redis value as `owner`; never shown in results or events.
   */
  owner?: string;
  reason?: string;
  /** Set when the lock was taken by `claim_task`. */
  taskId?: string;
  /**
   * Fresh per acquisition, kept across extensions: tells "extended" apart from "expired and
   * taken again" when the expiry check looks at the key later.
   */
  token: string;
  /** ISO-8601. */
  acquiredAt: string;
  /** ISO-8601. */
  expiresAt: string;
}

export interface AcquireOptions {
  reason?: string;
  ttlMs: number;
  /** The caller's owner token (see the top of this file); absent: an agent-level caller. */
  owner?: string;
}

export interface LockRefusal {
  ok: false;
  file: string;
  holder: string;
  reason?: string;
  expiresAt: string;
}

export type AcquireResult = { ok: true; lock: LockRecord; extended: boolean } | LockRefusal;

export type ReleaseResult =
  | { ok: true; lock: LockRecord; /** ISO-8601, the store's clock. */ releasedAt: string }
  | { ok: false; file: string; reason: 'not_locked' }
  | { ok: false; file: string; reason: 'not_holder'; holder: string; expiresAt: string };

export interface LockBackend {
  /** Set-if-absent with expiry; the holder re-acquiring extends (and may change the reason). */
  acquire(file: string, agentId: string, options: AcquireOptions): Promise<AcquireResult>;
  /** Only the holder (agent and owner, see heldBy) releases. */
  release(file: string, agentId: string, owner?: string): Promise<ReleaseResult>;
  /** Only the holder extends; undefined when the lock is gone or held by someone else. */
  extend(file: string, agentId: string, ttlMs: number, owner?: string): Promise<LockRecord | undefined>;
  get(file: string): Promise<LockRecord | undefined>;
  /** The live locks among `files` (one round trip), keyed by file. */
  getMany(files: readonly string[]): Promise<Map<string, LockRecord>>;
  list(): Promise<LockRecord[]>;
}

/**
 * Whether the caller (`agentId`, `owner`) is the holder of `record`: the same agent, and the same
 * owner unless the record has none (then any session of the agent is). The Lua scripts say the
 * same thing (LUA_HELD_BY in redis-store.ts).
 */
export function heldBy(record: { holder: string; owner?: string }, agentId: string, owner?: string): boolean {
  return record.holder === agentId && (!record.owner || record.owner === owner);
}

/** The public part of a record: the token and the owner are bookkeeping, not for agents to see. */
export type PublicLock = Omit<LockRecord, 'token' | 'owner'>;

export function publicLock(lock: LockRecord): PublicLock {
  const { token: _token, owner: _owner, ...rest } = lock;
  return rest;
}
