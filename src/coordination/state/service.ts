/**
 * Shared state as the coordinator sees it: a StateBackend plus checks (key shape, value size,
 * TTL) and `state:changed` events. Events carry the key and what happened, not the value: a
 * value may be 64 KB and every coordinator (and the capped stream) would carry it.
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { assertJsonBytes, LIMITS } from '../limits.js';
import type { EventBus } from '../types.js';
import { assertStateKey, type StateBackend, type StateEntry } from './types.js';

/** Longest TTL: 30 days. Longer-lived team knowledge belongs in a repository, not in Redis. */
export const MAX_STATE_TTL_MS = 30 * 86_400_000;

export interface SetStateResult {
  key: string;
  created: boolean;
  bytes: number;
  expiresAt?: string;
}

export class SharedState {
  constructor(private readonly options: { backend: StateBackend; bus: EventBus }) {}

  async set(key: string, value: unknown, agentId: string, ttlMs?: number): Promise<SetStateResult> {
    assertStateKey(key);
    if (value === undefined) throw new InvalidArgumentError('value: expected any JSON value');
    const bytes = assertJsonBytes('value', value, LIMITS.stateValueBytes);
    if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_STATE_TTL_MS)) {
      throw new InvalidArgumentError(`ttlMs: expected an integer from 1 to ${MAX_STATE_TTL_MS}`);
    }
    const stored = await this.options.backend.set(key, JSON.stringify(value), ttlMs);
    const result = {
      key,
      created: stored.created,
      bytes,
      ...(stored.expiresAt && { expiresAt: stored.expiresAt }),
    };
    this.options.bus.publish({
      type: 'state:changed',
      agentId,
      data: { ...result, action: 'set', ...(ttlMs !== undefined && { ttlMs }) },
    });
    return result;
  }

  async get(key: string): Promise<StateEntry | undefined> {
    assertStateKey(key);
    return this.options.backend.get(key);
  }

  async delete(key: string, agentId: string): Promise<boolean> {
    assertStateKey(key);
    const deleted = await this.options.backend.delete(key);
    if (deleted)
      this.options.bus.publish({ type: 'state:changed', agentId, data: { key, action: 'deleted' } });
    return deleted;
  }
}
