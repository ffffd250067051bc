/**
 * Shared state: small JSON values under a key, with an optional time to live, that every
 * coordinator on the store reads and writes (`set_state`, `get_state`, `delete_state`).
 * Redis layout (CONTRACT.md): key `<prefix>state:<key>`, the value's JSON, expiring by PX.
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { LIMITS } from '../limits.js';

export interface StateEntry {
  key: string;
  value: unknown;
  /** ISO-8601, the store's clock; absent for a value without a TTL. */
  expiresAt?: string;
}

export interface StateBackend {
  /** Store the value's JSON (replacing any, and its TTL); `created`: the key was absent. */
  set(key: string, json: string, ttlMs?: number): Promise<{ created: boolean; expiresAt?: string }>;
  get(key: string): Promise<StateEntry | undefined>;
  /** True when there was a value to delete. */
  delete(key: string): Promise<boolean>;
}

/**
 * Keys are names, not paths: ASCII letters, digits and `_ . : / @ -`. No glob characters (keys
 * may be matched by patterns), no braces (a user must not pick Redis Cluster slots), no spaces.
 */
const KEY = /^[A-Za-z0-9_.:/@-]+$/;

export function assertStateKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.stateKey || !KEY.test(key)) {
    throw new InvalidArgumentError(
      `key: expected 1 to ${LIMITS.stateKey} characters of A-Z a-z 0-9 _ . : / @ -, got ${JSON.stringify(key)}`,
    );
  }
}
