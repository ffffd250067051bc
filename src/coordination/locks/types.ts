/**
 * File locks: the shapes, and the backend interface that the memory and Redis stores both honour.
 * Backends store and compare; events and expiry tracking live in `Locks` (service.ts) above them.
 * Paths are already normalized (see ../paths.ts) when they reach this layer.
 */
export interface LockRecord {
  /** Normalized path, relative to the workspace root. */
  file: string;
  /** The agent that holds it. */
  holder: string;
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
  /** Only the holder releases. */
  release(file: string, agentId: string): Promise<ReleaseResult>;
  /** Only the holder extends; undefined when the lock is gone or held by someone else. */
  extend(file: string, agentId: string, ttlMs: number): Promise<LockRecord | undefined>;
  get(file: string): Promise<LockRecord | undefined>;
  /** The live locks among `files` (one round trip), keyed by file. */
  getMany(files: readonly string[]): Promise<Map<string, LockRecord>>;
  list(): Promise<LockRecord[]>;
}

/** The public part of a record: the token is bookkeeping, not something agents need to see. */
export type PublicLock = Omit<LockRecord, 'token'>;

export function publicLock(lock: LockRecord): PublicLock {
  const { token: _token, ...rest } = lock;
  return rest;
}
