/**
 * What every state backend owes: shared values with an optional TTL seen by every coordinator,
 * size and key checks, `state:changed` events — and cache invalidation reaching every
 * coordinator's attached cache through the bus.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { InvalidatableCache } from '../../src/coordination/cache-invalidation.js';
import { LIMITS } from '../../src/coordination/limits.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import { waitUntil, type CoordinationEnv, type MakeEnv } from './coordination-env.js';

/** A result cache stand-in: entries are `server/tool` names. */
class FakeCache implements InvalidatableCache {
  readonly entries: Set<string>;
  constructor(names: string[]) {
    this.entries = new Set(names);
  }
  invalidateWhere(match: (serverId: string, tool: string) => boolean): number {
    let dropped = 0;
    for (const name of [...this.entries]) {
      const [server, tool] = name.split('/') as [string, string];
      if (match(server, tool)) {
        this.entries.delete(name);
        dropped++;
      }
    }
    return dropped;
  }
}

export function runStateContract(name: string, makeEnv: MakeEnv): void {
  describe(`shared state contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('sets, reads and deletes a value every coordinator sees, announcing each change', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      const value = { branch: 'main', ok: true, n: 3.5, list: [], nested: { empty: {} }, text: 'ünï "q"' };
      const set = await one.state.set('build/status', value, 'agent-a');
      assert.deepEqual(set, {
        key: 'build/status',
        created: true,
        bytes: Buffer.byteLength(JSON.stringify(value)),
      });
      assert.deepEqual(await two.state.get('build/status'), { key: 'build/status', value });
      assert.equal((await two.state.set('build/status', null, 'agent-b')).created, false);
      assert.deepEqual(await one.state.get('build/status'), { key: 'build/status', value: null });
      assert.equal(await two.state.get('never-set'), undefined);
      assert.equal(await one.state.delete('build/status', 'agent-a'), true);
      assert.equal(await two.state.get('build/status'), undefined);
      assert.equal(await two.state.delete('build/status', 'agent-b'), false, 'nothing left to delete');
      // Each coordinator publishes on its own connection: no order is promised between them, so
      // the last change may arrive before another coordinator's earlier one. Wait for all three.
      await waitUntil(() => events.ofType('state:changed').length >= 3, 'the three state changes');
      const byKey = (a: unknown[], b: unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b));
      assert.deepEqual(
        events
          .ofType('state:changed')
          .map((e) => [e.agentId, e.data.key, e.data.action, e.data.created])
          .sort(byKey),
        [
          ['agent-a', 'build/status', 'deleted', undefined],
          ['agent-a', 'build/status', 'set', true],
          ['agent-b', 'build/status', 'set', false],
        ],
      );
      assert.ok(
        events.ofType('state:changed').every((e) => !('value' in e.data)),
        'events name the key, not the value',
      );
    });

    it('forgets a value after its TTL; setting it again without one keeps it', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      const before = Date.now();
      const set = await one.state.set('lease', 'x', 'agent-a', 400);
      const ttl = Date.parse(set.expiresAt ?? '') - before;
      assert.ok(ttl >= 399 && ttl < 5_000, `expires in ${ttl} ms`);
      assert.equal((await two.state.get('lease'))?.expiresAt, set.expiresAt);
      let gone = false;
      const deadline = Date.now() + 5_000;
      while (!gone && Date.now() < deadline) {
        gone = (await two.state.get('lease')) === undefined;
        if (!gone) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(gone, 'expired');
      assert.ok(Date.now() - before >= 380, 'not before its TTL');
      await one.state.set('kept', 1, 'agent-a', 60_000);
      await one.state.set('kept', 2, 'agent-a');
      assert.deepEqual(await two.state.get('kept'), { key: 'kept', value: 2 });
    });

    it('refuses bad keys, values over the cap and bad TTLs, naming the field', async () => {
      const { peer, events } = await open();
      const { state } = await peer();
      const bad = (promise: Promise<unknown>, field: string) =>
        assert.rejects(
          promise,
          (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith(`${field}:`),
        );
      for (const key of ['', 'a b', 'glob*', '{slot}', 'x'.repeat(LIMITS.stateKey + 1), 'new\nline']) {
        await bad(state.set(key, 1, 'a'), 'key');
        await bad(state.get(key), 'key');
        await bad(state.delete(key, 'a'), 'key');
      }
      const big = 'x'.repeat(LIMITS.stateValueBytes);
      await bad(state.set('big', big, 'a'), 'value');
      await bad(state.set('none', undefined, 'a'), 'value');
      for (const ttl of [0, 1.5, -1, 31 * 86_400_000]) await bad(state.set('t', 1, 'a', ttl), 'ttlMs');
      assert.equal(await state.get('big'), undefined);
      const fits = 'x'.repeat(LIMITS.stateValueBytes - 2);
      assert.equal((await state.set('fits', fits, 'a')).bytes, LIMITS.stateValueBytes);
      assert.equal((await state.get('fits'))?.value, fits);
      // Events of one coordinator arrive in order: once the accepted one is here, none came before it.
      await events.waitFor((e) => e.type === 'state:changed' && e.data.key === 'fits', 'state:changed fits');
      assert.equal(events.ofType('state:changed').length, 1, 'only the accepted value was announced');
    });

    it('invalidate_cache drops matching entries here at once and at every other coordinator', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      const names = ['memory/read_graph', 'memory/search_nodes', 'docs/search', 'docs/read'];
      const here = new FakeCache(names);
      const there = new FakeCache(names);
      one.caches.attach(here, '__');
      two.caches.attach(there, '__');
      assert.deepEqual(one.caches.invalidate('memory__*', 'agent-a', 'graph rewritten'), {
        pattern: 'memory__*',
        dropped: 2,
      });
      assert.deepEqual([...here.entries], ['docs/search', 'docs/read']);
      await waitUntil(() => there.entries.size === 2, 'the other coordinator to drop its entries');
      assert.deepEqual([...there.entries], ['docs/search', 'docs/read']);
      const event = await events.waitFor((e) => e.type === 'cache:invalidate', 'cache:invalidate');
      assert.deepEqual(event.data, { pattern: 'memory__*', reason: 'graph rewritten' });
      assert.equal(event.agentId, 'agent-a');

      two.caches.invalidate('*__sea?ch', 'agent-b');
      await waitUntil(() => here.entries.size === 1, 'the search entry to go');
      assert.deepEqual([...here.entries], ['docs/read']);
      for (const pattern of ['', 'docs[0]', 'a b', '{x}', 'x'.repeat(LIMITS.cachePattern + 1)]) {
        assert.throws(
          () => one.caches.invalidate(pattern, 'agent-a'),
          (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('pattern:'),
        );
      }
      one.caches.invalidate('sentinel__*', 'agent-a');
      await events.waitFor(
        (e) => e.type === 'cache:invalidate' && e.data.pattern === 'sentinel__*',
        'sentinel',
      );
      await events.waitFor((e) => e.type === 'cache:invalidate' && e.data.pattern === '*__sea?ch', 'second');
      assert.deepEqual(
        events
          .ofType('cache:invalidate')
          .map((e) => String(e.data.pattern))
          .sort(),
        ['*__sea?ch', 'memory__*', 'sentinel__*'],
        'a refused pattern publishes nothing',
      );
    });
  });
}
