/** Lock expiry detection, driven by a fake clock over the memory store. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryBus } from '../../../src/coordination/bus/index.js';
import { MemoryLockBackend } from '../../../src/coordination/locks/memory.js';
import { Locks } from '../../../src/coordination/locks/service.js';
import type { LockRecord } from '../../../src/coordination/locks/types.js';
import type { CoordinationEvent } from '../../../src/coordination/types.js';
import { CoordinationUnavailableError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ManualClock } from '../../helpers/manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const backend = new MemoryLockBackend(clock);
  let storeDown = false;
  const flaky = Object.assign(Object.create(backend) as MemoryLockBackend, {
    get: async (file: string): Promise<LockRecord | undefined> => {
      if (storeDown) throw new CoordinationUnavailableError('shared store unreachable: test');
      return backend.get(file);
    },
  });
  const bus = new MemoryBus({
    capacity: 100,
    source: 's',
    agentId: '-',
    logger: silentLogger,
    clock: () => clock.now(),
  });
  const events: CoordinationEvent[] = [];
  bus.subscribe((e) => events.push(e), 'file:lock_expired');
  const locks = new Locks({ backend: flaky, bus, clock });
  return { clock, locks, events, setStoreDown: (down: boolean) => (storeDown = down) };
}

describe('lock expiry watch', () => {
  it('reports a lock as expired just after its expiry, not before', async () => {
    const { clock, locks, events } = setup();
    await locks.acquire('a.ts', 'agent-a', { ttlMs: 1_000 });
    await clock.advance(999);
    assert.equal(events.length, 0);
    await clock.advance(100);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.data.file, 'a.ts');
    assert.deepEqual(locks.watchedFiles(), []);
  });

  it('follows an extension instead of reporting the first deadline', async () => {
    const { clock, locks, events } = setup();
    await locks.acquire('a.ts', 'agent-a', { ttlMs: 1_000 });
    await clock.advance(500);
    await locks.extend('a.ts', 'agent-a', 1_000);
    await clock.advance(600);
    assert.equal(events.length, 0);
    await clock.advance(500);
    assert.equal(events.length, 1);
  });

  it('reports the expiry even when another agent took the file before the check ran', async () => {
    const { clock, locks, events } = setup();
    await locks.acquire('a.ts', 'agent-a', { ttlMs: 100 });
    await clock.advance(105);
    assert.ok((await locks.acquire('a.ts', 'agent-b', { ttlMs: 10_000 })).ok);
    await clock.advance(100);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.data.holder, 'agent-a');
    assert.deepEqual(locks.watchedFiles(), ['a.ts'], 'now watching agent-b’s lock');
  });

  it('defers the decision while the store is unreachable', async () => {
    const { clock, locks, events, setStoreDown } = setup();
    await locks.acquire('a.ts', 'agent-a', { ttlMs: 100 });
    setStoreDown(true);
    await clock.advance(2_000);
    assert.equal(events.length, 0);
    setStoreDown(false);
    await clock.advance(300);
    assert.equal(events.length, 1);
  });

  it('stops watching on release and on close', async () => {
    const { clock, locks, events } = setup();
    await locks.acquire('a.ts', 'agent-a', { ttlMs: 100 });
    await locks.acquire('b.ts', 'agent-a', { ttlMs: 100 });
    await locks.release('a.ts', 'agent-a');
    assert.deepEqual(locks.watchedFiles(), ['b.ts']);
    locks.close();
    assert.equal(clock.pending(), 0);
    await clock.advance(1_000);
    assert.equal(events.length, 0);
  });
});
