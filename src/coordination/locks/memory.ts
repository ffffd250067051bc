/**
 * In-process lock store for the embedded mode (no Redis). JavaScript runs one thing at a time,
 * so each method is as atomic as the Redis Lua scripts it mirrors. Expiry is lazy: a lock past
 * its time is treated as absent and dropped when next looked at.
 */
import { randomUUID } from 'node:crypto';

import { systemClock, type Clock } from '../types.js';
import {
  heldBy,
  type AcquireOptions,
  type AcquireResult,
  type LockBackend,
  type LockRecord,
  type ReleaseResult,
} from './types.js';

interface Entry {
  record: LockRecord;
  expiresAtMs: number;
}

export class MemoryLockBackend implements LockBackend {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly clock: Clock = systemClock) {}

  async acquire(file: string, agentId: string, options: AcquireOptions): Promise<AcquireResult> {
    const current = this.live(file);
    if (current && !heldBy(current, agentId, options.owner)) {
      return {
        ok: false,
        file,
        holder: current.holder,
        reason: current.reason,
        expiresAt: current.expiresAt,
      };
    }
    const now = this.clock.now();
    const record: LockRecord = current
      ? { ...current, ...(options.reason !== undefined ? { reason: options.reason } : {}) }
      : {
          file,
          holder: agentId,
          ...(options.owner ? { owner: options.owner } : {}),
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
          token: randomUUID(),
          acquiredAt: new Date(now).toISOString(),
          expiresAt: '',
        };
    return { ok: true, lock: this.put(record, options.ttlMs), extended: current !== undefined };
  }

  async release(file: string, agentId: string, owner?: string): Promise<ReleaseResult> {
    const current = this.live(file);
    if (!current) return { ok: false, file, reason: 'not_locked' };
    if (!heldBy(current, agentId, owner)) {
      return { ok: false, file, reason: 'not_holder', holder: current.holder, expiresAt: current.expiresAt };
    }
    this.entries.delete(file);
    return { ok: true, lock: current, releasedAt: new Date(this.clock.now()).toISOString() };
  }

  async extend(
    file: string,
    agentId: string,
    ttlMs: number,
    owner?: string,
  ): Promise<LockRecord | undefined> {
    const current = this.live(file);
    if (!current || !heldBy(current, agentId, owner)) return undefined;
    return this.put(current, ttlMs);
  }

  async get(file: string): Promise<LockRecord | undefined> {
    return this.live(file);
  }

  async getMany(files: readonly string[]): Promise<Map<string, LockRecord>> {
    const out = new Map<string, LockRecord>();
    for (const file of files) {
      const record = this.live(file);
      if (record) out.set(file, record);
    }
    return out;
  }

  async list(): Promise<LockRecord[]> {
    const out: LockRecord[] = [];
    for (const file of [...this.entries.keys()]) {
      const record = this.live(file);
      if (record) out.push(record);
    }
    return out.sort((a, b) => a.file.localeCompare(b.file));
  }

  // --- used by the memory task store, which locks several files in one step ---

  /** The lock on `file` if it has not expired. */
  live(file: string): LockRecord | undefined {
    const entry = this.entries.get(file);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(file);
      return undefined;
    }
    return entry.record;
  }

  /** Store `record` with a fresh expiry, returning it with `expiresAt` filled in. */
  put(record: LockRecord, ttlMs: number): LockRecord {
    const expiresAtMs = this.clock.now() + ttlMs;
    const stored = { ...record, expiresAt: new Date(expiresAtMs).toISOString() };
    this.entries.set(record.file, { record: stored, expiresAtMs });
    return stored;
  }

  delete(file: string): void {
    this.entries.delete(file);
  }
}
