/** In-process shared state, mirroring the Redis keys: expiry is lazy, checked on read. */
import { systemClock, type Clock } from '../types.js';
import type { StateBackend, StateEntry } from './types.js';

export class MemoryStateBackend implements StateBackend {
  private readonly entries = new Map<string, { json: string; expiresAtMs?: number }>();

  constructor(private readonly clock: Clock = systemClock) {}

  async set(key: string, json: string, ttlMs?: number): Promise<{ created: boolean; expiresAt?: string }> {
    const created = this.live(key) === undefined;
    const expiresAtMs = ttlMs === undefined ? undefined : this.clock.now() + ttlMs;
    this.entries.set(key, { json, ...(expiresAtMs !== undefined && { expiresAtMs }) });
    return { created, ...(expiresAtMs !== undefined && { expiresAt: new Date(expiresAtMs).toISOString() }) };
  }

  async get(key: string): Promise<StateEntry | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    return {
      key,
      value: JSON.parse(entry.json) as unknown,
      ...(entry.expiresAtMs !== undefined && { expiresAt: new Date(entry.expiresAtMs).toISOString() }),
    };
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  private live(key: string) {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
