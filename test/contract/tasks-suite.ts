/**
 * What every task backend owes: one holder per task, all-or-nothing file locks, only the
 * claimer finishes, events for each step — checked through the Tasks service.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { TaskRecord } from '../../src/coordination/tasks/types.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import type { CoordinationEnv, MakeEnv } from './coordination-env.js';

const MINUTE = 60_000;

export function runTaskContract(name: string, makeEnv: MakeEnv): void {
  describe(`tasks contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('claims a task, locks all its files and announces it', async () => {
      const { peer, events } = await open();
      const { tasks, locks } = await peer();
      const result = await tasks.claim('T-1', 'agent-a', ['a.ts', 'b.ts']);
      assert.ok(result.ok);
      assert.equal(result.reclaimed, false);
      assert.equal(result.task.status, 'claimed');
      assert.equal(result.task.agentId, 'agent-a');
      assert.deepEqual(result.task.files, ['a.ts', 'b.ts']);
      assert.deepEqual(
        result.locks.map((l) => [l.lock.file, l.lock.holder, l.lock.taskId, l.extended]),
        [
          ['a.ts', 'agent-a', 'T-1', false],
          ['b.ts', 'agent-a', 'T-1', false],
        ],
      );
      assert.deepEqual(
        (await locks.list()).map((l) => [l.file, l.holder]),
        [
          ['a.ts', 'agent-a'],
          ['b.ts', 'agent-a'],
        ],
      );
      const claimed = await events.waitFor((e) => e.type === 'task:claimed', 'task:claimed');
      assert.deepEqual(claimed.data.files, ['a.ts', 'b.ts']);
      assert.equal(claimed.data.taskId, 'T-1');
      assert.equal(claimed.agentId, 'agent-a');
      await events.waitFor((e) => e.type === 'file:locked' && e.data.file === 'b.ts', 'file:locked b.ts');
    });

    it('claims a task without files, and lists it with an empty file list', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      const result = await tasks.claim('T-0', 'agent-a');
      assert.ok(result.ok);
      assert.deepEqual(result.task.files, []);
      assert.deepEqual(
        (await tasks.list()).map((t) => [t.taskId, t.files]),
        [['T-0', []]],
      );
    });

    it('holds a task for one agent at a time', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      assert.ok((await one.tasks.claim('T-1', 'agent-a', ['a.ts'])).ok);
      const refused = await two.tasks.claim('T-1', 'agent-b', ['other.ts']);
      assert.deepEqual(refused, {
        ok: false,
        conflict: 'task',
        taskId: 'T-1',
        holder: 'agent-a',
        status: 'claimed',
      });
      assert.equal(await one.locks.get('other.ts'), undefined, 'a refused claim locks nothing');
    });

    it('finishing one task keeps a file locked that another claimed task of the same agent lists', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      assert.ok((await one.tasks.claim('T-1', 'agent-a', ['shared.ts'])).ok);
      assert.ok((await one.tasks.claim('T-2', 'agent-a', ['shared.ts', 'other.ts'])).ok);
      assert.ok((await one.tasks.complete('T-1', 'agent-a')).ok);
      const refused = await two.locks.acquire('shared.ts', 'agent-b', { ttlMs: MINUTE });
      assert.equal(refused.ok, false, 'T-2 still holds shared.ts');
      assert.ok((await one.tasks.release('T-2', 'agent-a')).ok);
      assert.ok((await two.locks.acquire('shared.ts', 'agent-b', { ttlMs: MINUTE })).ok);
      assert.ok((await two.locks.acquire('other.ts', 'agent-b', { ttlMs: MINUTE })).ok);
    });

    it('locks all files or none: a held file refuses the claim, naming file and holder', async () => {
      const { peer, events } = await open();
      const { tasks, locks } = await peer();
      const held = await locks.acquire('b.ts', 'agent-b', { reason: 'editing', ttlMs: MINUTE });
      assert.ok(held.ok);
      const result = await tasks.claim('T-1', 'agent-a', ['a.ts', 'b.ts', 'c.ts']);
      assert.deepEqual(result, {
        ok: false,
        conflict: 'file',
        taskId: 'T-1',
        file: 'b.ts',
        holder: 'agent-b',
        reason: 'editing',
        expiresAt: held.lock.expiresAt,
      });
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['b.ts'],
        'no partial claim left behind',
      );
      assert.equal(await tasks.get('T-1'), undefined);
      await events.settle();
      assert.deepEqual(events.ofType('task:claimed'), []);
    });

    it('adopts files the claimer already holds, and re-claiming adds files', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      await locks.acquire('a.ts', 'agent-a', { reason: 'mine', ttlMs: MINUTE });
      const first = await tasks.claim('T-1', 'agent-a', ['a.ts']);
      assert.ok(first.ok);
      assert.equal(first.locks[0]?.extended, true);
      const again = await tasks.claim('T-1', 'agent-a', ['b.ts']);
      assert.ok(again.ok);
      assert.equal(again.reclaimed, true);
      assert.deepEqual(again.task.files, ['a.ts', 'b.ts']);
      assert.equal(again.task.claimedAt, first.task.claimedAt);
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['a.ts', 'b.ts'],
      );
    });

    it('lets only the claimer complete; completing releases the files and records the result', async () => {
      const { peer, events } = await open();
      const { tasks, locks } = await peer();
      await tasks.claim('T-1', 'agent-a', ['a.ts', 'b.ts']);
      assert.deepEqual(await tasks.complete('T-1', 'agent-b'), {
        ok: false,
        taskId: 'T-1',
        reason: 'not_claimer',
        holder: 'agent-a',
        status: 'claimed',
      });
      const result = { pr: 42, notes: [], nested: { empty: {}, list: [1, 'two'] } };
      const done = await tasks.complete('T-1', 'agent-a', result);
      assert.ok(done.ok);
      assert.equal(done.task.status, 'completed');
      assert.deepEqual(done.task.result, result);
      assert.ok(done.task.completedAt);
      assert.deepEqual(done.releasedLocks.map((l) => l.file).sort(), ['a.ts', 'b.ts']);
      assert.deepEqual(await locks.list(), []);
      assert.deepEqual((await tasks.get('T-1'))?.result, result);
      const event = await events.waitFor((e) => e.type === 'task:completed', 'task:completed');
      assert.deepEqual(event.data.result, result);
      await events.waitFor(
        (e) => e.type === 'file:unlocked' && e.data.file === 'b.ts' && e.data.cause === 'task_completed',
        'file:unlocked for the task',
      );
      const reclaim = await tasks.claim('T-1', 'agent-b');
      assert.deepEqual(reclaim, {
        ok: false,
        conflict: 'task',
        taskId: 'T-1',
        holder: 'agent-a',
        status: 'completed',
      });
      assert.equal((await tasks.complete('T-1', 'agent-a')).ok, false, 'completed once');
    });

    it('lets only the claimer release; a released task can be claimed by another agent', async () => {
      const { peer, events } = await open();
      const { tasks, locks } = await peer();
      await tasks.claim('T-1', 'agent-a', ['a.ts']);
      assert.equal((await tasks.release('T-1', 'agent-b')).ok, false);
      const released = await tasks.release('T-1', 'agent-a');
      assert.ok(released.ok);
      assert.equal(released.task.status, 'released');
      assert.equal(await locks.get('a.ts'), undefined);
      const event = await events.waitFor((e) => e.type === 'task:released', 'task:released');
      assert.equal(event.data.taskId, 'T-1');
      const next = await tasks.claim('T-1', 'agent-b', ['a.ts']);
      assert.ok(next.ok);
      assert.equal(next.task.agentId, 'agent-b');
      assert.deepEqual(await tasks.release('missing', 'agent-a'), {
        ok: false,
        taskId: 'missing',
        reason: 'not_found',
      });
    });

    it('does not release a file lock that changed hands since the claim', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer({ lockTtlMs: 100 });
      await tasks.claim('T-1', 'agent-a', ['a.ts']);
      tasks.close(); // no renewals: let the file lock lapse
      await new Promise((r) => setTimeout(r, 200));
      assert.ok((await locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE })).ok);
      const done = await tasks.complete('T-1', 'agent-a');
      assert.ok(done.ok);
      assert.deepEqual(done.releasedLocks, []);
      assert.equal((await locks.get('a.ts'))?.holder, 'agent-b');
    });

    it('keeps the files of a held task locked beyond the lock TTL', async () => {
      const { peer, events } = await open();
      // Renewed every third of the TTL: a TTL this long survives event-loop stalls of a loaded
      // machine (150 ms did not), and the wait still spans two TTLs.
      const { tasks, locks } = await peer({ lockTtlMs: 1_200 });
      await tasks.claim('T-1', 'agent-a', ['a.ts']);
      await new Promise((r) => setTimeout(r, 2_600));
      assert.equal((await locks.get('a.ts'))?.holder, 'agent-a');
      assert.deepEqual(events.ofType('file:lock_expired'), []);
    });

    it('lists tasks by status', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      await tasks.claim('T-1', 'agent-a');
      await tasks.claim('T-2', 'agent-a');
      await tasks.claim('T-3', 'agent-b');
      await tasks.complete('T-2', 'agent-a');
      await tasks.release('T-3', 'agent-b');
      assert.deepEqual(
        (await tasks.list()).map((t) => [t.taskId, t.status]),
        [
          ['T-1', 'claimed'],
          ['T-2', 'completed'],
          ['T-3', 'released'],
        ],
      );
      assert.deepEqual(
        (await tasks.list('claimed')).map((t) => t.taskId),
        ['T-1'],
      );
      assert.deepEqual(
        (await tasks.list('completed')).map((t) => t.taskId),
        ['T-2'],
      );
      assert.deepEqual(
        (await tasks.list('released')).map((t) => t.taskId),
        ['T-3'],
      );
    });

    it('releases every task of one agent, with their files', async () => {
      const { peer, events } = await open();
      const { tasks, locks } = await peer();
      await tasks.claim('T-1', 'agent-a', ['a.ts']);
      await tasks.claim('T-2', 'agent-a', ['b.ts']);
      await tasks.claim('T-3', 'agent-b', ['c.ts']);
      const released = await tasks.releaseAllFor('agent-a');
      assert.deepEqual(released.map((t) => t.taskId).sort(), ['T-1', 'T-2']);
      assert.deepEqual(
        (await locks.list()).map((l) => l.file),
        ['c.ts'],
      );
      assert.deepEqual(
        (await tasks.list('claimed')).map((t) => t.taskId),
        ['T-3'],
      );
      await events.waitFor(
        (e) => e.type === 'task:released' && e.data.cause === 'agent_left',
        'task:released',
      );
    });

    it('treats two owners of one agent id as two holders of tasks and their files', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      const claimed = await one.tasks.claim('T-1', 'agent-a', ['a.ts'], 'w1');
      assert.ok(claimed.ok);
      assert.equal(claimed.task.owner, 'w1');
      assert.deepEqual(await two.tasks.claim('T-1', 'agent-a', ['other.ts'], 'w2'), {
        ok: false,
        conflict: 'task',
        taskId: 'T-1',
        holder: 'agent-a',
        status: 'claimed',
      });
      assert.equal(await two.locks.get('other.ts'), undefined, 'a refused claim locks nothing');
      const fileRefusal = await two.tasks.claim('T-2', 'agent-a', ['a.ts'], 'w2');
      assert.equal(fileRefusal.ok, false);
      assert.ok(!fileRefusal.ok && fileRefusal.conflict === 'file' && fileRefusal.holder === 'agent-a');
      for (const refused of [
        await two.tasks.complete('T-1', 'agent-a', { by: 'w2' }, 'w2'),
        await two.tasks.release('T-1', 'agent-a', 'w2'),
        await two.tasks.logStep('T-1', 'agent-a', 'not mine', undefined, 'w2'),
        await two.tasks.release('T-1', 'agent-a'),
      ]) {
        assert.equal(refused.ok, false);
        assert.ok(!refused.ok && refused.reason === 'not_claimer');
      }
      assert.deepEqual(await two.tasks.detectConflicts(['a.ts'], 'agent-a', 'w2'), [
        { file: 'a.ts', holder: 'agent-a', kind: 'task', taskId: 'T-1' },
      ]);
      assert.deepEqual(await one.tasks.detectConflicts(['a.ts'], 'agent-a', 'w1'), []);
      const again = await one.tasks.claim('T-1', 'agent-a', [], 'w1');
      assert.ok(again.ok && again.reclaimed, 'the claiming window re-claims');
      assert.ok((await one.tasks.logStep('T-1', 'agent-a', 'mine', undefined, 'w1')).ok);
      const done = await one.tasks.complete('T-1', 'agent-a', undefined, 'w1');
      assert.ok(done.ok);
      assert.deepEqual(
        done.releasedLocks.map((l) => l.file),
        ['a.ts'],
      );
      assert.equal(done.task.owner, undefined, 'a finished task has no owner left');
      const next = await two.tasks.claim('T-2', 'agent-a', ['a.ts'], 'w2');
      assert.ok(next.ok, 'the file is free for the other window now');
    });

    it('caps the files a task lists across reclaims, refusing the claim that would pass the cap', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      const batch = (from: number) => Array.from({ length: 600 }, (_, i) => `cap/${from + i}.ts`);
      assert.ok((await tasks.claim('T-cap', 'agent-x', batch(0))).ok);
      await assert.rejects(tasks.claim('T-cap', 'agent-x', batch(600)), /task T-cap would list 1200 files/);
      assert.equal((await tasks.get('T-cap'))?.files.length, 600);
      assert.equal(await locks.get('cap/600.ts'), undefined, 'the refused claim locked nothing');
    });

    it('a session reclaiming an owner-less claim takes over its file locks too, so another session cannot share them', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      assert.ok((await tasks.claim('T-0', 'agent-x', ['f.ts'])).ok, 'claimed without an owner (over HTTP)');
      assert.equal((await locks.get('f.ts'))?.owner, undefined);
      assert.ok((await tasks.claim('T-0', 'agent-x', [], 'wA')).ok, 'window A reclaims it');
      assert.equal((await locks.get('f.ts'))?.owner, 'wA');
      const other = await tasks.claim('T-2', 'agent-x', ['f.ts'], 'wB');
      assert.ok(!other.ok && other.conflict === 'file', 'window B is refused the file A now holds');
      const released = await tasks.releaseAllFor('agent-x', 'wA');
      assert.deepEqual(
        released.map((t) => t.taskId),
        ['T-0'],
      );
      assert.equal(await locks.get('f.ts'), undefined);
    });

    it('lets any session of the agent finish a claim without an owner (written before owners)', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      const old = await tasks.claim('T-1', 'agent-a', ['a.ts']);
      assert.ok(old.ok);
      assert.equal(old.task.owner, undefined);
      assert.equal((await tasks.release('T-1', 'agent-b', 'w1')).ok, false, 'not another agent');
      const done = await tasks.complete('T-1', 'agent-a', 'ok', 'w2');
      assert.ok(done.ok);
      assert.deepEqual(await locks.list(), []);
    });

    it("releases the tasks of one session of an agent, and leaves its other sessions' claims", async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      await tasks.claim('T-1', 'agent-a', ['a.ts'], 'w1');
      await tasks.claim('T-2', 'agent-a', ['b.ts'], 'w2');
      await tasks.claim('T-3', 'agent-a', ['c.ts']);
      const released = await tasks.releaseAllFor('agent-a', 'w1');
      assert.deepEqual(released.map((t) => t.taskId).sort(), ['T-1', 'T-3']);
      assert.deepEqual(
        (await locks.list()).map((l) => [l.file, l.owner]),
        [['b.ts', 'w2']],
      );
      assert.deepEqual(
        (await tasks.list('claimed')).map((t) => t.taskId),
        ['T-2'],
      );
      assert.deepEqual(
        (await tasks.releaseAllFor('agent-a')).map((t) => t.taskId),
        ['T-2'],
        'without an owner: every session',
      );
      assert.deepEqual(await locks.list(), []);
    });

    it('an agent leaving one coordinator frees only what that coordinator took for it', async () => {
      const { peer } = await open();
      const one = await peer({ owner: 'w1' });
      const two = await peer({ owner: 'w2' });
      await one.agents.register('agent-a', { name: 'ide' });
      await two.agents.register('agent-a', { name: 'ide' });
      assert.ok((await one.tasks.claim('T-1', 'agent-a', ['a.ts'], 'w1')).ok);
      assert.ok((await one.locks.acquire('one.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w1' })).ok);
      assert.ok((await two.tasks.claim('T-2', 'agent-a', ['b.ts'], 'w2')).ok);
      assert.ok((await two.locks.acquire('two.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w2' })).ok);
      await one.close();
      assert.deepEqual(
        (await two.locks.list()).map((l) => l.file),
        ['b.ts', 'two.ts'],
      );
      assert.deepEqual(
        (await two.tasks.list('claimed')).map((t) => t.taskId),
        ['T-2'],
      );
      assert.equal((await two.tasks.get('T-1'))?.status, 'released');
    });

    it("restores a claim with its owner: the files stay that session's (shared stores)", async (t) => {
      const { kind, peer } = await open();
      if (kind === 'memory') {
        // Nothing to restore into: each process's memory store starts empty (see restoreIfEmpty).
        const { tasks } = await peer();
        assert.equal(await tasks.restoreIfEmpty(async () => [restoredTask()]), 0);
        return;
      }
      t.diagnostic('redis: the restore script writes the owner into the lock values');
      const { tasks, locks } = await peer();
      assert.equal(await tasks.restoreIfEmpty(async () => [restoredTask()]), 1);
      assert.deepEqual(
        (await locks.list()).map((l) => [l.file, l.holder, l.owner]),
        [['r.ts', 'agent-a', 'w1']],
      );
      assert.equal((await locks.acquire('r.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w2' })).ok, false);
      const released = await tasks.release('T-R', 'agent-a', 'w2');
      assert.ok(!released.ok && released.reason === 'not_claimer');
      assert.ok((await tasks.complete('T-R', 'agent-a', undefined, 'w1')).ok);
      assert.deepEqual(await locks.list(), []);
    });

    it('lets exactly one of many racing agents claim a task', async () => {
      const { peer } = await open();
      const a = await peer();
      const b = await peer();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).tasks.claim('T-hot', `agent-${i}`, ['x.ts', 'y.ts']),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 1);
      const holders = new Set((await a.locks.list()).map((l) => l.holder));
      assert.equal(holders.size, 1);
    });

    it('rejects an empty task id', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      await assert.rejects(tasks.claim('', 'agent-a'), InvalidArgumentError);
    });
  });
}

function restoredTask(): TaskRecord {
  const at = new Date().toISOString();
  return {
    taskId: 'T-R',
    status: 'claimed',
    agentId: 'agent-a',
    owner: 'w1',
    files: ['r.ts'],
    claimedAt: at,
    updatedAt: at,
  };
}
