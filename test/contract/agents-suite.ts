/**
 * What every agent backend owes: registration with heartbeats, leave releasing the agent's
 * holdings, and a dead agent noticed by another coordinator — announced exactly once.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';

import type { CallToolResult } from '@modelcontextprotocol/server';

import { coordinationTools } from '../../src/coordination/index.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import type { CoordinationEnv, MakeEnv, Peer } from './coordination-env.js';

/** A peer's coordinator__* tools, called as `agentId`. */
function toolsOf(peer: Peer) {
  const tools = coordinationTools({
    locks: peer.locks,
    tasks: peer.tasks,
    agents: peer.agents,
    state: peer.state,
    caches: peer.caches,
    agentId: () => 'nobody',
    workspaceRoot: '/repo',
    lockTtlMs: 60_000,
  });
  return async (name: string, args: unknown, agentId: string) => {
    const result: CallToolResult = await tools.find((t) => t.name === name)!.handler(args, { agentId });
    return result.structuredContent as Record<string, unknown>;
  };
}

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

    it('two processes acting as one agent: it leaves (once) only when the last of them leaves', async () => {
      const { peer, events } = await open();
      const first = await peer({ owner: 'window-1' });
      const second = await peer({ owner: 'window-2' });
      await first.agents.register('agent-a', { name: 'a' });
      await second.agents.register('agent-a', { name: 'a' });
      await first.locks.acquire('first.ts', 'agent-a', { ttlMs: MINUTE, owner: 'window-1' });
      await second.locks.acquire('second.ts', 'agent-a', { ttlMs: MINUTE, owner: 'window-2' });

      await first.agents.leave('agent-a');
      // The first window's holdings go; the agent stays, registered, with no agent:left.
      await events.waitFor(
        (e) => e.type === 'file:unlocked' && e.data.file === 'first.ts',
        'first.ts unlocked',
      );
      await events.settle();
      assert.deepEqual(events.ofType('agent:left'), []);
      assert.deepEqual(
        (await second.agents.list()).map((a) => a.agentId),
        ['agent-a'],
      );
      assert.deepEqual(
        (await second.locks.list()).map((l) => l.file),
        ['second.ts'],
      );
      // Its heartbeat finds the agent still present: not announced again as rejoined.
      const registered = events.ofType('agent:registered').length;
      await second.agents.tick();
      await events.settle();
      assert.equal(events.ofType('agent:registered').length, registered);

      await second.agents.leave('agent-a');
      const left = await events.waitFor((e) => e.type === 'agent:left', 'agent:left');
      assert.equal(left.agentId, 'agent-a');
      assert.equal(left.data.cause, 'leave');
      assert.deepEqual(await second.agents.list(), []);
      assert.deepEqual(await second.locks.list(), []);
      await events.settle();
      assert.equal(events.ofType('agent:left').length, 1);
    });

    it('notices a dead agent once: agent:left from one coordinator, its tasks and locks released', async () => {
      const { peer, events } = await open();
      const dying = await peer({ agentTtlMs: 150, lockTtlMs: MINUTE });
      // watcherA's own agent must outlive a loaded machine's stalls (its heartbeat is ttl/3);
      // watcherB sweeps every 50 ms.
      const watcherA = await peer({ agentTtlMs: 5_000 });
      const watcherB = await peer({ agentTtlMs: 150 });
      await dying.agents.register('agent-x', { name: 'x' });
      await watcherA.agents.register('agent-a', { name: 'a' });
      await dying.tasks.claim('T-1', 'agent-x', ['a.ts']);
      await dying.locks.acquire('b.ts', 'agent-x', { ttlMs: MINUTE });
      await dying.crash();

      const left = await events.waitFor((e) => e.type === 'agent:left', 'agent:left', 10_000);
      assert.equal(left.agentId, 'agent-x');
      assert.equal(left.data.cause, 'expired');
      await events.waitFor((e) => e.type === 'task:released' && e.data.taskId === 'T-1', 'task released');
      assert.equal((await watcherB.tasks.get('T-1'))?.status, 'released');
      // Tasks are released first, then the locks that are left: wait for the last one to go.
      await events.waitFor((e) => e.type === 'file:unlocked' && e.data.file === 'b.ts', 'b.ts unlocked');
      assert.deepEqual(await watcherB.locks.list(), []);
      // Both watchers keep sweeping; the announcement is not repeated.
      await sleep(300);
      assert.equal(events.ofType('agent:left').filter((e) => e.agentId === 'agent-x').length, 1);
      assert.deepEqual(
        (await watcherB.agents.list()).map((a) => a.agentId),
        ['agent-a'],
      );
    });

    it('register_agent sets capabilities, status and metadata that every coordinator sees', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      await one.agents.register('agent-a', { name: 'cursor' });
      const record = await one.agents.update('agent-a', {
        capabilities: ['typescript', 'review', 'typescript'],
        status: 'busy',
        metadata: { model: 'm-1', tz: 'UTC' },
      });
      assert.deepEqual(
        [record.capabilities, record.status, record.metadata],
        [['typescript', 'review'], 'busy', { model: 'm-1', tz: 'UTC' }],
      );
      const seen = (await two.agents.list()).find((a) => a.agentId === 'agent-a');
      assert.deepEqual(
        [seen?.capabilities, seen?.status, seen?.metadata, seen?.clientInfo],
        [['typescript', 'review'], 'busy', { model: 'm-1', tz: 'UTC' }, { name: 'cursor' }],
      );
      assert.deepEqual((await two.agents.get('agent-a'))?.status, 'busy');
      const changed = await events.waitFor((e) => e.type === 'agent:status_changed', 'agent:status_changed');
      assert.deepEqual(changed.data, {
        agentId: 'agent-a',
        status: 'busy',
        previous: 'idle',
        cause: 'register',
      });
      // Only a change of status is announced; capabilities alone or the same status are not.
      await one.agents.update('agent-a', { capabilities: ['go'] });
      await one.agents.update('agent-a', { status: 'busy' });
      await one.agents.register('agent-a', { name: 'cursor' });
      assert.deepEqual(
        (await two.agents.get('agent-a'))?.capabilities,
        ['go'],
        'a re-registration keeps the profile',
      );
      await one.agents.update('agent-a', { status: 'away' });
      await events.waitFor((e) => e.type === 'agent:status_changed' && e.data.status === 'away', 'away');
      assert.deepEqual(
        events.ofType('agent:status_changed').map((e) => e.data.status),
        ['busy', 'away'],
      );
    });

    it('an agent is working while it holds a task and idle once it holds none', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      await one.agents.register('agent-a', { name: 'a' });
      const status = async () => (await two.agents.get('agent-a'))?.status;
      assert.equal(await status(), 'idle');
      assert.ok((await one.tasks.claim('T-1', 'agent-a')).ok);
      assert.equal(await status(), 'working', 'written by the time the claim returns');
      assert.ok((await one.tasks.claim('T-2', 'agent-a')).ok);
      assert.ok((await one.tasks.complete('T-1', 'agent-a')).ok);
      assert.equal(await status(), 'working', 'T-2 is still held');
      assert.ok((await one.tasks.release('T-2', 'agent-a')).ok);
      assert.equal(await status(), 'idle');
      await events.waitFor(
        (e) => e.type === 'agent:status_changed' && e.data.status === 'idle',
        'agent:status_changed idle',
      );
      assert.deepEqual(
        events.ofType('agent:status_changed').map((e) => [e.data.previous, e.data.status, e.data.cause]),
        [
          ['idle', 'working', 'task'],
          ['working', 'idle', 'task'],
        ],
      );
    });

    it('refuses a bad profile with an error naming the field, and keeps the old one', async () => {
      const { peer } = await open();
      const one = await peer();
      await one.agents.update('agent-a', { capabilities: ['ts'] });
      const bad = (input: unknown, field: string) =>
        assert.rejects(
          one.agents.update('agent-a', input as Parameters<typeof one.agents.update>[1]),
          (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith(`${field}:`),
        );
      await bad({ capabilities: ['ts', 3] }, 'capabilities.1');
      await bad({ capabilities: Array.from({ length: 33 }, (_, i) => `c${i}`) }, 'capabilities');
      await bad({ status: 'sleeping' }, 'status');
      await bad({ metadata: ['not', 'an', 'object'] }, 'metadata');
      await bad({ metadata: { blob: 'x'.repeat(20_000) } }, 'metadata');
      assert.deepEqual((await one.agents.get('agent-a'))?.capabilities, ['ts']);
    });

    it('find_tasks without capabilities uses the ones the agent registered; list_agents shows them', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      await one.tasks.create({ taskId: 'ts', title: 'ts', capabilities: ['typescript'] }, 'lead');
      await one.tasks.create({ taskId: 'go', title: 'go', capabilities: ['go'] }, 'lead');
      const callOne = toolsOf(one);
      const callTwo = toolsOf(two);
      const registered = await callOne('register_agent', { capabilities: ['typescript'] }, 'agent-a');
      assert.equal(registered.registered, true);
      const ids = (body: Record<string, unknown>) =>
        (body.tasks as Array<{ taskId: string }>).map((t) => t.taskId);
      assert.deepEqual(ids(await callOne('find_tasks', {}, 'agent-a')), ['ts']);
      assert.deepEqual(
        ids(await callTwo('find_tasks', {}, 'agent-a')),
        ['ts'],
        'through another coordinator',
      );
      assert.deepEqual(ids(await callTwo('find_tasks', { capabilities: ['go'] }, 'agent-a')), ['go']);
      const listed = await callTwo('list_agents', {}, 'agent-b');
      assert.deepEqual(
        (listed.agents as Array<{ agentId: string; capabilities: string[]; status: string }>).map((a) => [
          a.agentId,
          a.capabilities,
          a.status,
        ]),
        [['agent-a', ['typescript'], 'idle']],
      );
    });
  });
}
