/**
 * What every agent backend owes: registration with heartbeats, leave releasing the agent's
 * holdings, and a dead agent noticed by another coordinator — announced exactly once.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import type { CoordinationEnv, MakeEnv } from './coordination-env.js';

const MINUTE = 60_000;

export function runAgentContract(name: string, makeEnv: MakeEnv): void {
  describe(`agents contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('registers an agent with its clientInfo and announces it', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const clientInfo = { name: 'cursor', version: '1.2.3' };
      assert.equal(await one.agents.register('agent-a', clientInfo), true);
      const event = await events.waitFor((e) => e.type === 'agent:registered', 'agent:registered');
      assert.equal(event.agentId, 'agent-a');
      assert.deepEqual(event.data.clientInfo, clientInfo);
      const listed = await one.agents.list();
      assert.deepEqual(
        listed.map((a) => [a.agentId, a.source, a.clientInfo]),
        [['agent-a', one.source, clientInfo]],
      );
    });

    it('keeps a live agent registered past its TTL through heartbeats', async () => {
      const { peer, events } = await open();
      const one = await peer({ agentTtlMs: 150 });
      const two = await peer({ agentTtlMs: 150 });
      await one.agents.register('agent-a', { name: 'a' });
      await sleep(500);
      assert.deepEqual(await two.agents.sweep(), []);
      assert.deepEqual(
        (await two.agents.list()).map((a) => a.agentId),
        ['agent-a'],
      );
      assert.deepEqual(events.ofType('agent:left'), []);
    });

    it('on leave announces agent:left and releases the agent’s tasks and locks', async () => {
      const { peer, events } = await open();
      const one = await peer();
      await one.agents.register('agent-a', { name: 'a' });
      await one.agents.register('agent-b', { name: 'b' });
      await one.tasks.claim('T-1', 'agent-a', ['a.ts']);
      await one.locks.acquire('free.ts', 'agent-a', { ttlMs: MINUTE });
      await one.locks.acquire('kept.ts', 'agent-b', { ttlMs: MINUTE });
      await one.agents.leave('agent-a');
      const left = await events.waitFor((e) => e.type === 'agent:left', 'agent:left');
      assert.equal(left.agentId, 'agent-a');
      assert.equal(left.data.cause, 'leave');
      assert.equal((await one.tasks.get('T-1'))?.status, 'released');
      assert.deepEqual(
        (await one.locks.list()).map((l) => l.file),
        ['kept.ts'],
      );
      assert.deepEqual(
        (await one.agents.list()).map((a) => a.agentId),
        ['agent-b'],
      );
    });

    it('notices a dead agent once: agent:left from one coordinator, its tasks and locks released', async () => {
      const { peer, events } = await open();
      const dying = await peer({ agentTtlMs: 150, lockTtlMs: MINUTE });
      const watcherA = await peer({ agentTtlMs: 150 });
      const watcherB = await peer({ agentTtlMs: 150 });
      await dying.agents.register('agent-x', { name: 'x' });
      await watcherA.agents.register('agent-a', { name: 'a' });
      await dying.tasks.claim('T-1', 'agent-x', ['a.ts']);
      await dying.locks.acquire('b.ts', 'agent-x', { ttlMs: MINUTE });
      await dying.crash();

      const left = await events.waitFor((e) => e.type === 'agent:left', 'agent:left', 3_000);
      assert.equal(left.agentId, 'agent-x');
      assert.equal(left.data.cause, 'expired');
      await events.waitFor((e) => e.type === 'task:released' && e.data.taskId === 'T-1', 'task released');
      assert.equal((await watcherB.tasks.get('T-1'))?.status, 'released');
      // Tasks are released first, then the locks that are left: wait for the last one to go.
      await events.waitFor((e) => e.type === 'file:unlocked' && e.data.file === 'b.ts', 'b.ts unlocked');
      assert.deepEqual(await watcherB.locks.list(), []);
      // Both watchers keep sweeping; the announcement is not repeated.
      await sleep(300);
      assert.equal(events.ofType('agent:left').length, 1);
      assert.deepEqual(
        (await watcherB.agents.list()).map((a) => a.agentId),
        ['agent-a'],
      );
    });
  });
}
