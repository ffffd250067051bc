/**
 * The library client, as another Node service would use it: two clients on one Redis see each
 * other's locks, tasks and events; closing one releases what it held.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { CoordinationClient } from '../../src/coordination/client.js';
import type { CoordinationEvent } from '../../src/coordination/types.js';
import { startRedis } from '../helpers/redis-server.js';
import { waitUntil } from './coordination-env.js';

const redis = await startRedis();
after(() => redis.stop());

let prefixes = 0;

describe('CoordinationClient', () => {
  const clients: CoordinationClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });
  const connect = async (agentId: string, prefix: string) => {
    const client = await CoordinationClient.connect({
      redisUrl: redis.url,
      prefix,
      agentId,
      workspaceRoot: '/repo',
      clientInfo: { name: 'seeds-backend' },
    });
    clients.push(client);
    await waitUntil(() => client.status().bus === 'connected', 'bus connected');
    return client;
  };

  it('locks, refuses, lists and unlocks across two clients, with events', async () => {
    const prefix = `cl${++prefixes}:`;
    const backend = await connect('backend', prefix);
    const ui = await connect('ui', prefix);
    const seen: CoordinationEvent[] = [];
    ui.subscribe((e) => seen.push(e), 'file:*');

    const lock = await backend.lock('/repo/src/a.ts', { reason: 'migration' });
    assert.ok(lock.ok);
    assert.equal(lock.lock.file, 'src/a.ts');
    const refused = await ui.lock('src/a.ts');
    assert.equal(refused.ok, false);
    assert.equal(refused.ok === false && refused.holder, 'backend');
    assert.deepEqual(
      (await ui.listLocks()).map((l) => [l.file, l.holder, l.reason]),
      [['src/a.ts', 'backend', 'migration']],
    );
    assert.ok((await backend.unlock('src/a.ts')).ok);
    await waitUntil(() => seen.some((e) => e.type === 'file:unlocked'), 'file:unlocked at the other client');
    assert.equal(seen[0]?.type, 'file:locked');
    assert.equal(seen[0]?.agentId, 'backend');
    assert.deepEqual(ui.status(), { store: 'connected', bus: 'connected' });
  });

  it('claims, completes and lists tasks; publishes and replays custom events', async () => {
    const prefix = `cl${++prefixes}:`;
    const backend = await connect('backend', prefix);
    const ui = await connect('ui', prefix);
    const claim = await backend.claim('T-1', ['a.ts']);
    assert.ok(claim.ok);
    const conflict = await ui.claim('T-2', ['a.ts']);
    assert.equal(conflict.ok, false);
    assert.equal(conflict.ok === false && conflict.conflict, 'file');
    assert.ok((await backend.complete('T-1', { merged: true })).ok);
    assert.deepEqual(
      (await ui.listTasks('completed')).map((t) => [t.taskId, t.result]),
      [['T-1', { merged: true }]],
    );
    const published = ui.publish('health:degraded', { server: 'docs' });
    let replayed: CoordinationEvent[] = [];
    const deadline = Date.now() + 5_000;
    while (!replayed.some((e) => e.id === published.id)) {
      assert.ok(Date.now() < deadline, 'the published event is replayed from the stream');
      await sleep(20);
      replayed = await backend.replay({ type: 'health:*' });
    }
    assert.equal(replayed.find((e) => e.id === published.id)?.agentId, 'ui');
  });

  it('registers as an agent and releases its holdings on close', async () => {
    const prefix = `cl${++prefixes}:`;
    const leaving = await connect('leaving', prefix);
    const staying = await connect('staying', prefix);
    const left: CoordinationEvent[] = [];
    staying.subscribe((e) => left.push(e), 'agent:left');
    await leaving.lock('a.ts');
    await leaving.claim('T-1', ['b.ts']);
    clients.splice(clients.indexOf(leaving), 1);
    await leaving.close();
    assert.deepEqual(await staying.listLocks(), []);
    assert.equal((await staying.listTasks('released')).length, 1);
    await waitUntil(() => left.some((e) => e.agentId === 'leaving'), 'agent:left');
  });
});
