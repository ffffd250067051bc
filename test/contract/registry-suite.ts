/**
 * What every registry backend owes: entries per server id marked by owner, last writer wins on a
 * shared id, removal only by the owner, and the server events.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { ServerRegistration } from '../../src/coordination/registry/types.js';
import type { CoordinationEnv, MakeEnv } from './coordination-env.js';

const memory: ServerRegistration = {
  serverId: 'memory',
  name: 'memory-server',
  version: '1.0.0',
  tools: ['create_entities', 'read_graph'],
  status: 'connected',
  transport: 'stdio',
};

export function runRegistryContract(name: string, makeEnv: MakeEnv): void {
  describe(`registry contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('lists the servers of every coordinator, marked by owner', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      const written = await one.registry.upsert(memory);
      assert.equal(written.owner, one.source);
      assert.ok(Date.parse(written.lastSeen) > 0);
      await two.registry.upsert({ ...memory, serverId: 'docs', transport: 'streamable-http', tools: [] });
      const listed = await one.registry.list();
      assert.deepEqual(
        listed.map((e) => [e.serverId, e.owner, e.transport]),
        [
          ['docs', two.source, 'streamable-http'],
          ['memory', one.source, 'stdio'],
        ],
      );
      assert.deepEqual(listed[1], written);
      assert.deepEqual(listed[0]?.tools, []);
    });

    it('announces server:registered once, then tools:changed when the tools differ', async () => {
      const { peer, events } = await open();
      const one = await peer();
      await one.registry.upsert(memory);
      await one.registry.upsert({ ...memory, status: 'restarting' });
      await one.registry.upsert({ ...memory, tools: ['read_graph', 'search_nodes'] });
      const changed = await events.waitFor((e) => e.type === 'tools:changed', 'tools:changed');
      assert.deepEqual(changed.data.added, ['search_nodes']);
      assert.deepEqual(changed.data.removed, ['create_entities']);
      await events.settle();
      assert.equal(events.ofType('server:registered').length, 1);
      assert.equal(events.ofType('tools:changed').length, 1);
      assert.equal(events.ofType('server:registered')[0]?.data.serverId, 'memory');
    });

    it('shares one entry for one server id: the last writer wins, and only the owner removes it', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      await one.registry.upsert(memory);
      await two.registry.upsert({ ...memory, version: '2.0.0' });
      const [entry] = await one.registry.list();
      assert.equal(entry?.owner, two.source);
      assert.equal(entry?.version, '2.0.0');
      assert.equal(await one.registry.remove('memory'), false, 'no longer the owner');
      assert.equal((await one.registry.list()).length, 1);
      assert.equal(await two.registry.remove('memory'), true);
      assert.deepEqual(await one.registry.list(), []);
    });

    it('removes its own entries when the coordinator closes', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      await one.registry.upsert(memory);
      await one.registry.upsert({ ...memory, serverId: 'fs' });
      await two.registry.upsert({ ...memory, serverId: 'docs' });
      await one.close();
      assert.deepEqual(
        (await two.registry.list()).map((e) => e.serverId),
        ['docs'],
      );
    });
  });
}
