/**
 * What every lock backend owes the coordinator, checked through the Locks service so events and
 * expiry detection are part of the contract.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import { publicLock } from '../../src/coordination/locks/types.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import { waitUntil, type CoordinationEnv, type MakeEnv } from './coordination-env.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MINUTE = 60_000;

export function runLockContract(name: string, makeEnv: MakeEnv): void {
  describe(`locks contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('grants a free file and announces file:locked', async () => {
      const { peer, events } = await open();
      const { locks } = await peer();
      const before = Date.now();
      const result = await locks.acquire('src/a.ts', 'agent-a', { reason: 'refactor', ttlMs: MINUTE });
      assert.equal(result.ok, true);
      assert.ok(result.ok);
      assert.equal(result.extended, false);
      assert.equal(result.lock.file, 'src/a.ts');
      assert.equal(result.lock.holder, 'agent-a');
      assert.equal(result.lock.reason, 'refactor');
      assert.match(result.lock.expiresAt, ISO);
      const expiresIn = Date.parse(result.lock.expiresAt) - before;
      assert.ok(expiresIn >= MINUTE && expiresIn < MINUTE + 1_000, `expires in ${expiresIn} ms`);
      const event = await events.waitFor((e) => e.type === 'file:locked', 'file:locked');
      assert.equal(event.agentId, 'agent-a');
      assert.equal(event.data.file, 'src/a.ts');
      assert.equal(event.data.holder, 'agent-a');
      assert.equal(event.data.reason, 'refactor');
      assert.equal(event.data.expiresAt, result.lock.expiresAt);
    });

    it('refuses another agent, naming holder, reason and expiry, and announces nothing', async () => {
      const { peer, events } = await open();
      const { locks } = await peer();
      const granted = await locks.acquire('src/a.ts', 'agent-a', { reason: 'refactor', ttlMs: MINUTE });
      assert.ok(granted.ok);
      const refused = await locks.acquire('src/a.ts', 'agent-b', { reason: 'mine', ttlMs: MINUTE });
      assert.deepEqual(refused, {
        ok: false,
        file: 'src/a.ts',
        holder: 'agent-a',
        reason: 'refactor',
        expiresAt: granted.lock.expiresAt,
      });
      await events.settle();
      assert.equal(events.ofType('file:locked').length, 1);
    });

    it('extends when the holder locks again, keeping the acquisition and updating the reason', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      const first = await locks.acquire('a.ts', 'agent-a', { reason: 'one', ttlMs: 1_000 });
      await sleep(5);
      const again = await locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE });
      assert.ok(first.ok && again.ok);
      assert.equal(again.extended, true);
      assert.equal(again.lock.acquiredAt, first.lock.acquiredAt);
      assert.equal(again.lock.reason, 'one', 'a re-lock without a reason keeps the old one');
      assert.ok(Date.parse(again.lock.expiresAt) > Date.parse(first.lock.expiresAt));
      const third = await locks.acquire('a.ts', 'agent-a', { reason: 'two', ttlMs: MINUTE });
      assert.ok(third.ok);
      assert.equal(third.lock.reason, 'two');
      assert.equal((await locks.get('a.ts'))?.reason, 'two');
    });

    it('releases only for the holder and announces file:unlocked', async () => {
      const { peer, events } = await open();
      const { locks } = await peer();
      const granted = await locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE });
      assert.ok(granted.ok);
      const denied = await locks.release('a.ts', 'agent-b');
      assert.deepEqual(denied, {
        ok: false,
        file: 'a.ts',
        reason: 'not_holder',
        holder: 'agent-a',
        expiresAt: granted.lock.expiresAt,
      });
      assert.equal((await locks.get('a.ts'))?.holder, 'agent-a');
      const released = await locks.release('a.ts', 'agent-a');
      assert.equal(released.ok, true);
      assert.equal(await locks.get('a.ts'), undefined);
      assert.deepEqual(await locks.release('a.ts', 'agent-a'), {
        ok: false,
        file: 'a.ts',
        reason: 'not_locked',
      });
      const event = await events.waitFor((e) => e.type === 'file:unlocked', 'file:unlocked');
      assert.equal(event.data.file, 'a.ts');
      assert.equal(event.data.holder, 'agent-a');
      assert.equal(event.data.cause, 'released');
      assert.ok((await locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE })).ok, 'free again');
    });

    it('extends only for the holder', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      const granted = await locks.acquire('a.ts', 'agent-a', { ttlMs: 1_000 });
      assert.ok(granted.ok);
      assert.equal(await locks.extend('a.ts', 'agent-b', MINUTE), undefined);
      assert.equal(await locks.extend('missing.ts', 'agent-a', MINUTE), undefined);
      const extended = await locks.extend('a.ts', 'agent-a', MINUTE);
      assert.ok(extended);
      assert.equal(extended.token, granted.lock.token);
      assert.ok(Date.parse(extended.expiresAt) > Date.parse(granted.lock.expiresAt));
    });

    it('lists every live lock, sorted by file', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      assert.deepEqual(await locks.list(), []);
      await locks.acquire('b.ts', 'agent-b', { ttlMs: MINUTE });
      await locks.acquire('a.ts', 'agent-a', { reason: 'r', ttlMs: MINUTE });
      await locks.acquire('dir/c d [x].ts', 'agent-a', { ttlMs: MINUTE });
      const listed = await locks.list();
      assert.deepEqual(
        listed.map((l) => [l.file, l.holder]),
        [
          ['a.ts', 'agent-a'],
          ['b.ts', 'agent-b'],
          ['dir/c d [x].ts', 'agent-a'],
        ],
      );
      await locks.release('b.ts', 'agent-b');
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['a.ts', 'dir/c d [x].ts'],
      );
    });

    it('grants one of many racing agents', async () => {
      const { peer } = await open();
      const a = await peer();
      const b = await peer();
      const attempts = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).locks.acquire('hot.ts', `agent-${i}`, { ttlMs: MINUTE }),
      );
      const results = await Promise.all(attempts);
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1);
      const holder = winners[0]!.ok ? winners[0]!.lock.holder : '';
      for (const r of results) if (!r.ok) assert.equal(r.holder, holder);
    });

    it('expires by TTL, frees the file and announces file:lock_expired once', async () => {
      const { peer, events } = await open();
      const { locks } = await peer();
      const granted = await locks.acquire('a.ts', 'agent-a', { reason: 'short', ttlMs: 120 });
      assert.ok(granted.ok);
      const event = await events.waitFor((e) => e.type === 'file:lock_expired', 'file:lock_expired', 3_000);
      assert.ok(Date.now() >= Date.parse(granted.lock.expiresAt));
      assert.equal(event.data.file, 'a.ts');
      assert.equal(event.data.holder, 'agent-a');
      assert.equal(event.data.expiresAt, granted.lock.expiresAt);
      assert.equal(await locks.get('a.ts'), undefined);
      assert.ok((await locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE })).ok);
      await events.settle(150);
      assert.equal(events.ofType('file:lock_expired').length, 1);
    });

    it('does not report a released or extended lock as expired', async () => {
      const { peer, events } = await open();
      const { locks } = await peer();
      await locks.acquire('released.ts', 'agent-a', { ttlMs: 100 });
      await locks.release('released.ts', 'agent-a');
      await locks.acquire('extended.ts', 'agent-a', { ttlMs: 150 });
      await sleep(60);
      await locks.acquire('extended.ts', 'agent-a', { ttlMs: 600 });
      await events.settle(300);
      assert.deepEqual(events.ofType('file:lock_expired'), []);
      assert.equal((await locks.get('extended.ts'))?.holder, 'agent-a');
      const expired = await events.waitFor((e) => e.type === 'file:lock_expired', 'late expiry', 3_000);
      assert.equal(expired.data.file, 'extended.ts');
    });

    it('does not report expiry when the holder released through another coordinator', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      const granted = await one.locks.acquire('a.ts', 'agent-a', { ttlMs: 200 });
      assert.ok(granted.ok);
      const seenByTwo = await two.locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE });
      assert.equal(seenByTwo.ok, false, 'the other coordinator sees the lock');
      assert.ok((await two.locks.release('a.ts', 'agent-a')).ok);
      await events.waitFor((e) => e.type === 'file:unlocked', 'file:unlocked');
      // One's own subscriber hears the unlock too; on a Cluster it may sit on another node than
      // the observer's, so it can hear it a little later.
      await waitUntil(() => one.locks.watchedFiles().length === 0, 'coordinator one forgets a.ts', 2_000);
      await events.settle(300);
      assert.deepEqual(events.ofType('file:lock_expired'), []);
    });

    it('releases everything one agent holds, and only that', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      await locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE });
      await locks.acquire('b.ts', 'agent-a', { ttlMs: MINUTE });
      await locks.acquire('c.ts', 'agent-b', { ttlMs: MINUTE });
      const released = await locks.releaseAllHeldBy('agent-a');
      assert.deepEqual(released.map((l) => l.file).sort(), ['a.ts', 'b.ts']);
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['c.ts'],
      );
    });

    it('treats two owners of one agent id as two holders (two windows, one MCP_AGENT_ID)', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      const granted = await one.locks.acquire('a.ts', 'agent-a', {
        reason: 'w1',
        ttlMs: MINUTE,
        owner: 'w1',
      });
      assert.ok(granted.ok);
      assert.equal(granted.lock.owner, 'w1');
      // The other window of the same agent, through another coordinator: refused like anyone else.
      const refused = await two.locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w2' });
      assert.deepEqual(refused, {
        ok: false,
        file: 'a.ts',
        holder: 'agent-a',
        reason: 'w1',
        expiresAt: granted.lock.expiresAt,
      });
      assert.deepEqual(await two.locks.release('a.ts', 'agent-a', 'w2'), {
        ok: false,
        file: 'a.ts',
        reason: 'not_holder',
        holder: 'agent-a',
        expiresAt: granted.lock.expiresAt,
      });
      assert.equal(await two.locks.extend('a.ts', 'agent-a', MINUTE, 'w2'), undefined);
      // A caller of the agent without an owner is not that window either.
      assert.equal((await two.locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE })).ok, false);
      assert.equal((await two.locks.release('a.ts', 'agent-a')).ok, false);
      const again = await one.locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w1' });
      assert.ok(again.ok);
      assert.equal(again.extended, true);
      assert.equal(again.lock.acquiredAt, granted.lock.acquiredAt);
      assert.ok(await one.locks.extend('a.ts', 'agent-a', MINUTE, 'w1'));
      const stored = await two.locks.get('a.ts');
      assert.equal(stored?.owner, 'w1', 'the owner is stored with the lock');
      assert.equal('owner' in publicLock(stored!), false, 'and never shown');
      await events.settle();
      assert.equal(events.ofType('file:locked').length, 2, 'refusals announce nothing');
      assert.ok((await one.locks.release('a.ts', 'agent-a', 'w1')).ok);
      assert.ok(
        (await two.locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w2' })).ok,
        'free again',
      );
    });

    it('lets any session of the agent act on a lock without an owner (written before owners)', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      const old = await locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE });
      assert.ok(old.ok);
      assert.equal(old.lock.owner, undefined);
      const extended = await locks.acquire('a.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w1' });
      assert.ok(extended.ok);
      assert.equal(extended.extended, true);
      assert.ok(await locks.extend('a.ts', 'agent-a', MINUTE, 'w2'));
      assert.equal((await locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE, owner: 'w1' })).ok, false);
      assert.equal((await locks.release('a.ts', 'agent-b', 'w1')).ok, false, 'not another agent');
      assert.ok((await locks.release('a.ts', 'agent-a', 'w2')).ok);
    });

    it("releases what one session of an agent holds, and leaves its other sessions' locks", async () => {
      const { peer } = await open();
      const { locks } = await peer();
      await locks.acquire('w1.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w1' });
      await locks.acquire('w2.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w2' });
      await locks.acquire('any.ts', 'agent-a', { ttlMs: MINUTE });
      await locks.acquire('b.ts', 'agent-b', { ttlMs: MINUTE, owner: 'w1' });
      const released = await locks.releaseAllHeldBy('agent-a', 'agent_left', 'w1');
      assert.deepEqual(released.map((l) => l.file).sort(), ['any.ts', 'w1.ts']);
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['b.ts', 'w2.ts'],
      );
      // Without an owner: every session of the agent (its heartbeat stopped everywhere).
      assert.deepEqual(
        (await locks.releaseAllHeldBy('agent-a')).map((l) => l.file),
        ['w2.ts'],
      );
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['b.ts'],
      );
    });

    it('rejects a non-positive or fractional TTL', async () => {
      const { peer } = await open();
      const { locks } = await peer();
      await assert.rejects(locks.acquire('a.ts', 'agent-a', { ttlMs: 0 }), InvalidArgumentError);
      await assert.rejects(locks.acquire('a.ts', 'agent-a', { ttlMs: 1.5 }), InvalidArgumentError);
      assert.deepEqual(await locks.list(), []);
    });
  });
}
