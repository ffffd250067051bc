/**
 * What every task backend owes the task board: created tasks with their fields, find (dependencies,
 * capabilities, files held by others, best first), dependencies enforced by claims,
 * detect_conflicts, and each task's log — checked through the Tasks service.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { setTimeout as sleep } from 'node:timers/promises';

import type { Locks } from '../../src/coordination/locks/service.js';
import { candidateTasks } from '../../src/coordination/tasks/board.js';
import type { Tasks } from '../../src/coordination/tasks/service.js';
import { LIMITS } from '../../src/coordination/limits.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import type { CoordinationEnv, MakeEnv } from './coordination-env.js';

const MINUTE = 60_000;

const ids = async (tasks: Tasks, agentId: string, capabilities: string[] = [], limit?: number) =>
  (await tasks.find(agentId, capabilities, limit)).map((t) => t.taskId);

/** Wait until the clock is past `iso` (createdAt has millisecond resolution): "older" is then unambiguous. */
const past = async (iso: string | undefined) => {
  const ms = Date.parse(iso ?? '');
  while (Date.now() <= ms) await sleep(1);
};

/** find_tasks by its definition: candidateTasks over every record, then the live locks. */
async function reference(tasks: Tasks, locks: Locks, agentId: string, capabilities: string[], limit: number) {
  const candidates = candidateTasks(await tasks.list(), agentId, capabilities);
  const held = await locks.getMany(candidates.flatMap((t) => t.files));
  return candidates
    .filter((t) => t.files.every((f) => (held.get(f)?.holder ?? agentId) === agentId))
    .slice(0, limit)
    .map((t) => t.taskId);
}

/** A small seeded generator (mulberry32): the same run of changes every time. */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const some = <T>(items: readonly T[], max: number): T[] => [
    ...new Set(Array.from({ length: int(max + 1) }, () => pick(items))),
  ];
  return { int, pick, some };
}

export function runBoardContract(name: string, makeEnv: MakeEnv): void {
  describe(`task board contract: ${name}`, () => {
    let env: CoordinationEnv | undefined;
    const open = async () => (env = await makeEnv());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('creates an open task with its fields, announces it, and refuses the same id twice', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      const created = await one.tasks.create(
        {
          taskId: 'T-1',
          title: 'Fix the parser',
          description: 'Ünïcode and "quotes" survive',
          files: ['src/p.ts', 'src/p.ts', 'test/p.ts'],
          capabilities: ['ts'],
          priority: 5,
          dependsOn: [],
        },
        'lead',
      );
      assert.ok(created.ok);
      const expected = {
        taskId: 'T-1',
        status: 'open',
        title: 'Fix the parser',
        description: 'Ünïcode and "quotes" survive',
        files: ['src/p.ts', 'test/p.ts'],
        capabilities: ['ts'],
        priority: 5,
        dependsOn: [],
        createdBy: 'lead',
      };
      const pick = (t: object) =>
        Object.fromEntries(Object.entries(t).filter(([k]) => k in expected)) as Record<string, unknown>;
      assert.deepEqual(pick(created.task), expected);
      assert.match(created.task.createdAt ?? '', /^\d{4}-\d{2}-\d{2}T/);
      assert.equal(created.task.claimedAt, undefined);
      assert.deepEqual(pick((await two.tasks.get('T-1'))!), expected, 'seen through another coordinator');
      assert.deepEqual(
        (await two.tasks.list('open')).map((t) => t.taskId),
        ['T-1'],
      );
      const event = await events.waitFor((e) => e.type === 'task:created', 'task:created');
      assert.equal(event.agentId, 'lead');
      assert.equal(event.data.taskId, 'T-1');
      assert.equal(event.data.title, 'Fix the parser');
      assert.deepEqual(event.data.files, ['src/p.ts', 'test/p.ts']);

      const again = await two.tasks.create({ taskId: 'T-1', title: 'Other' }, 'someone');
      assert.deepEqual(again, { ok: false, taskId: 'T-1', reason: 'exists', status: 'open', holder: '' });
      assert.equal((await one.tasks.get('T-1'))?.title, 'Fix the parser', 'the first one stays');

      const fresh = await one.tasks.create({ title: 'No id given' }, 'lead');
      assert.ok(fresh.ok);
      assert.match(fresh.task.taskId, /^[0-9a-f-]{36}$/);
      assert.deepEqual([fresh.task.files, fresh.task.capabilities, fresh.task.priority], [[], [], 0]);
    });

    it('refuses bad tasks with a clear error and stores nothing', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      assert.ok((await tasks.create({ taskId: 'A', title: 'a' }, 'lead')).ok);
      const bad = async (input: unknown, message: RegExp) =>
        assert.rejects(
          tasks.create(input as Parameters<Tasks['create']>[0], 'lead'),
          (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message),
        );
      await bad({ taskId: 'S', title: 's', dependsOn: ['S'] }, /^dependsOn: .*"S" cannot depend on itself/);
      await bad({ taskId: 'U', title: 'u', dependsOn: ['A', 'nope'] }, /^dependsOn: no task "nope" exists/);
      await bad({ taskId: 'C', title: 'c', capabilities: ['ts', 7] }, /^capabilities\.1: /);
      await bad({ taskId: 'C', title: 'c', capabilities: 'ts' }, /^capabilities: /);
      await bad({ taskId: 'E', title: '  ' }, /^title: /);
      await bad({ taskId: 'L', title: 'x'.repeat(LIMITS.title + 1) }, /^title: /);
      await bad(
        { taskId: 'D', title: 'd', description: 'x'.repeat(LIMITS.description + 1) },
        /^description: /,
      );
      await bad(
        { taskId: 'F', title: 'f', files: Array.from({ length: LIMITS.files + 1 }, (_, i) => `${i}`) },
        /^files: /,
      );
      await bad({ taskId: 'P', title: 'p', priority: 1.5 }, /^priority: /);
      await bad(
        { taskId: 'I', title: 'i', dependsOn: Array(LIMITS.dependsOn + 1).fill('A') },
        /^dependsOn: /,
      );
      assert.deepEqual(
        (await tasks.list()).map((t) => t.taskId),
        ['A'],
      );
    });

    it('cannot form a dependency cycle: dependencies exist first and an id is never reused', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      assert.ok((await tasks.create({ taskId: 'A', title: 'a' }, 'lead')).ok);
      assert.ok((await tasks.create({ taskId: 'B', title: 'b', dependsOn: ['A'] }, 'lead')).ok);
      const cycle = await tasks.create({ taskId: 'A', title: 'a again', dependsOn: ['B'] }, 'lead');
      assert.equal(cycle.ok, false);
      assert.deepEqual((await tasks.get('A'))?.dependsOn, []);
    });

    it('finds only tasks whose dependencies are completed, and a claim waits for them too', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      await tasks.create({ taskId: 'A', title: 'a' }, 'lead');
      await tasks.create({ taskId: 'B', title: 'b', dependsOn: ['A'], files: ['b.ts'] }, 'lead');
      assert.deepEqual(await ids(tasks, 'agent-x'), ['A']);
      const early = await tasks.claim('B', 'agent-x');
      assert.deepEqual(early, {
        ok: false,
        conflict: 'dependency',
        taskId: 'B',
        dependency: 'A',
        status: 'open',
      });
      assert.equal(await locks.get('b.ts'), undefined, 'a refused claim locks nothing');
      assert.ok((await tasks.claim('A', 'agent-x')).ok);
      assert.deepEqual(await ids(tasks, 'agent-y'), [], 'A is claimed, B still waits');
      assert.ok((await tasks.complete('A', 'agent-x')).ok);
      assert.deepEqual(await ids(tasks, 'agent-y'), ['B']);
      const claimed = await tasks.claim('B', 'agent-y');
      assert.ok(claimed.ok);
      assert.deepEqual(claimed.task.files, ['b.ts'], 'the task’s own files are locked with it');
      assert.equal(claimed.task.title, 'b', 'the board fields survive the claim');
      assert.equal((await locks.get('b.ts'))?.holder, 'agent-y');
    });

    it('finds only tasks whose capabilities the agent covers', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      await tasks.create({ taskId: 'any', title: 'anyone' }, 'lead');
      await tasks.create({ taskId: 'ts', title: 'ts', capabilities: ['typescript'] }, 'lead');
      await tasks.create(
        { taskId: 'both', title: 'ts+review', capabilities: ['typescript', 'review'] },
        'lead',
      );
      assert.deepEqual((await ids(tasks, 'a')).sort(), ['any']);
      assert.deepEqual((await ids(tasks, 'a', ['typescript'])).sort(), ['any', 'ts']);
      assert.deepEqual((await ids(tasks, 'a', ['review', 'typescript', 'go'])).sort(), ['any', 'both', 'ts']);
    });

    it('leaves out tasks with a file another agent locked or claimed, not ones the agent holds', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      await one.tasks.create({ taskId: 'locked', title: 'l', files: ['a.ts', 'free.ts'] }, 'lead');
      await one.tasks.create({ taskId: 'claimed', title: 'c', files: ['c.ts'] }, 'lead');
      await one.tasks.create({ taskId: 'free', title: 'f', files: ['free.ts'] }, 'lead');
      assert.ok((await two.locks.acquire('a.ts', 'agent-b', { ttlMs: MINUTE })).ok);
      assert.ok((await two.tasks.claim('other', 'agent-b', ['c.ts'])).ok);
      assert.deepEqual((await ids(one.tasks, 'agent-a')).sort(), ['free']);
      assert.deepEqual((await ids(two.tasks, 'agent-b')).sort(), ['claimed', 'free', 'locked']);
    });

    it('treats a lock of another session of the same agent as another holder, an owner-less one as its own', async () => {
      const { peer } = await open();
      const one = await peer();
      await one.tasks.create({ taskId: 'mine', title: 'm', files: ['w1.ts'] }, 'lead');
      await one.tasks.create({ taskId: 'legacy', title: 'l', files: ['old.ts'] }, 'lead');
      await one.tasks.create({ taskId: 'free', title: 'f', files: ['free.ts'] }, 'lead');
      assert.ok((await one.locks.acquire('w1.ts', 'agent-a', { ttlMs: MINUTE, owner: 'w1' })).ok);
      assert.ok((await one.locks.acquire('old.ts', 'agent-a', { ttlMs: MINUTE })).ok);
      const find = async (owner: string) =>
        (await one.tasks.find('agent-a', [], 10, owner)).map((t) => t.taskId).sort();
      assert.deepEqual(await find('w1'), ['free', 'legacy', 'mine']);
      assert.deepEqual(await find('w2'), ['free', 'legacy'], 'the w1 window holds w1.ts');
    });

    it('ranks by priority, then oldest first, and honours the limit', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      for (const [taskId, priority] of [
        ['low', -1],
        ['first', 0],
        ['urgent', 9],
        ['second', 0],
      ] as const) {
        assert.ok((await tasks.create({ taskId, title: taskId, priority }, 'lead')).ok);
        // createdAt has millisecond resolution: make "older" unambiguous.
        await new Promise((r) => setTimeout(r, 3));
      }
      assert.deepEqual(await ids(tasks, 'a'), ['urgent', 'first', 'second', 'low']);
      assert.deepEqual(await ids(tasks, 'a', [], 2), ['urgent', 'first']);
    });

    it('keeps find in rank order as tasks are claimed, completed and released, honouring the limit', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      // Created oldest first, with ids against that order: age, not the id, must decide ties.
      for (const [taskId, priority] of [
        ['t-e', 1],
        ['t-d', 0],
        ['t-c', 1],
        ['t-b', 0],
        ['t-a', -2],
      ] as const) {
        const created = await one.tasks.create({ taskId, title: taskId, priority }, 'lead');
        assert.ok(created.ok);
        await past(created.task.createdAt);
      }
      const find = (agentId = 'x', limit?: number) => ids(two.tasks, agentId, [], limit);
      assert.deepEqual(await find(), ['t-e', 't-c', 't-d', 't-b', 't-a']);
      assert.deepEqual(await find('x', 2), ['t-e', 't-c']);
      assert.deepEqual(await find('x', 1), ['t-e']);

      assert.ok((await one.tasks.claim('t-c', 'agent-a')).ok);
      assert.ok((await two.tasks.claim('t-d', 'agent-b')).ok);
      assert.deepEqual(await find(), ['t-e', 't-b', 't-a'], 'claimed tasks leave');
      assert.deepEqual(await find('agent-a'), ['t-e', 't-b', 't-a'], 'also for their claimer');
      assert.deepEqual(await find('x', 2), ['t-e', 't-b']);
      assert.ok((await one.tasks.complete('t-c', 'agent-a')).ok);
      assert.deepEqual(await find(), ['t-e', 't-b', 't-a'], 'a completed task stays out');
      assert.ok((await one.tasks.release('t-d', 'agent-b')).ok);
      assert.deepEqual(await find(), ['t-e', 't-d', 't-b', 't-a'], 'a released task is back in its place');

      assert.ok((await two.tasks.claim('t-e', 'agent-a')).ok);
      assert.ok((await two.tasks.claim('t-a', 'agent-a')).ok);
      assert.deepEqual(await find(), ['t-d', 't-b']);
      assert.deepEqual((await one.tasks.releaseAllFor('agent-a')).map((t) => t.taskId).sort(), [
        't-a',
        't-e',
      ]);
      assert.deepEqual(await find(), ['t-e', 't-d', 't-b', 't-a'], 'back after the agent left');

      // A task that came to exist by a claim ranks, once released, by when it was claimed.
      const adhoc = await one.tasks.claim('adhoc', 'agent-c');
      assert.ok(adhoc.ok);
      assert.deepEqual(await find(), ['t-e', 't-d', 't-b', 't-a']);
      assert.ok((await one.tasks.release('adhoc', 'agent-c')).ok);
      assert.deepEqual(await find(), ['t-e', 't-d', 't-b', 'adhoc', 't-a']);
    });

    it('fills the limit from further down the board, past tasks it may not take', async () => {
      const { peer } = await open();
      const { tasks, locks } = await peer();
      const many = 40; // more than one page of the Redis walk (32)
      const make = async (taskId: string, spec: Omit<Parameters<Tasks['create']>[0], 'title'>) =>
        assert.ok((await tasks.create({ ...spec, taskId, title: taskId }, 'lead')).ok);
      const n = (i: number) => String(i).padStart(2, '0');
      await make('gate', { priority: 0 });
      for (let i = 0; i < many; i++) await make(`dep-${n(i)}`, { priority: 5, dependsOn: ['gate'] });
      for (let i = 0; i < many; i++) await make(`hot-${n(i)}`, { priority: 4, files: ['hot.ts'] });
      for (let i = 0; i < many; i++) await make(`go-${n(i)}`, { priority: 3, capabilities: ['go'] });
      for (let i = 0; i < 3; i++) await make(`plain-${i}`, { priority: 1 });
      assert.ok((await locks.acquire('hot.ts', 'agent-y', { ttlMs: MINUTE })).ok);

      assert.deepEqual(await ids(tasks, 'agent-x', [], 5), ['plain-0', 'plain-1', 'plain-2', 'gate']);
      assert.deepEqual(await ids(tasks, 'agent-x', ['go'], 3), ['go-00', 'go-01', 'go-02']);
      assert.deepEqual(
        await ids(tasks, 'agent-y', [], 2),
        ['hot-00', 'hot-01'],
        'its own lock hides nothing',
      );
      assert.equal((await tasks.find('agent-y', [], 100)).length, many + 4);

      assert.ok((await tasks.claim('gate', 'agent-x')).ok);
      assert.ok((await tasks.complete('gate', 'agent-x')).ok);
      assert.deepEqual(await ids(tasks, 'agent-x', [], 2), ['dep-00', 'dep-01'], 'the dependency is done');
      assert.ok((await locks.release('hot.ts', 'agent-y')).ok);
      assert.deepEqual(await ids(tasks, 'agent-x', [], many + 2).then((l) => l.slice(many)), [
        'hot-00',
        'hot-01',
      ]);
      // A claim on the shared file hides the others that list it, from everyone but the claimer,
      // also once the claimer let go of the file's lock (the claim still holds the task).
      assert.ok((await tasks.claim('hot-05', 'agent-y')).ok);
      const after = async (agentId: string, capabilities: string[]) =>
        (await ids(tasks, agentId, capabilities, many + 2)).slice(many);
      assert.deepEqual(await after('agent-x', ['go']), ['go-00', 'go-01']);
      assert.deepEqual(await after('agent-y', []), ['hot-00', 'hot-01']);
      assert.ok((await locks.release('hot.ts', 'agent-y')).ok);
      assert.deepEqual(await after('agent-x', ['go']), ['go-00', 'go-01']);
      assert.ok((await tasks.release('hot-05', 'agent-y')).ok);
      assert.deepEqual(await after('agent-x', ['go']), ['hot-00', 'hot-01']);
    });

    it('agrees with the rule over the whole board through a seeded run of random changes', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      const rnd = seeded(13);
      const agents = ['agent-a', 'agent-b', 'agent-c'];
      const capabilities = ['ts', 'go', 'review'];
      const files = ['f0.ts', 'f1.ts', 'f2.ts', 'f3.ts', 'f4.ts', 'f5.ts'];
      const taskIds: string[] = [];
      let checked = 0;
      for (let step = 0; step < 150; step++) {
        const { tasks, locks } = rnd.pick([one, two]);
        const agent = rnd.pick(agents);
        const op = rnd.int(10);
        if (op < 3 || taskIds.length === 0) {
          const taskId = `t${step}`;
          const created = await tasks.create(
            {
              taskId,
              title: taskId,
              priority: rnd.int(5) - 2,
              capabilities: rnd.some(capabilities, 2),
              dependsOn: rnd.some(taskIds, 2),
              files: rnd.some(files, 2),
            },
            'lead',
          );
          assert.ok(created.ok);
          taskIds.push(taskId);
        } else if (op < 6) {
          const taskId = rnd.int(8) === 0 ? `adhoc${step}` : rnd.pick(taskIds);
          const claimed = await tasks.claim(taskId, agent, rnd.int(3) === 0 ? rnd.some(files, 1) : []);
          if (claimed.ok && !taskIds.includes(taskId)) taskIds.push(taskId);
        } else if (op < 8) {
          const held = (await tasks.list('claimed')).filter((t) => t.agentId === agent);
          if (held.length > 0) {
            const task = rnd.pick(held);
            const finished =
              rnd.int(2) === 0
                ? await tasks.complete(task.taskId, agent)
                : await tasks.release(task.taskId, agent);
            assert.ok(finished.ok);
          }
        } else if (op < 9) {
          const file = rnd.pick(files);
          if (rnd.int(2) === 0) await locks.acquire(file, agent, { ttlMs: MINUTE });
          else await locks.release(file, agent);
        } else if (rnd.int(4) === 0) {
          await tasks.releaseAllFor(agent);
        }
        for (const who of agents) {
          const have = rnd.some(capabilities, 3);
          const limit = 1 + rnd.int(6);
          const expected = await reference(one.tasks, one.locks, who, have, limit);
          assert.deepEqual(await ids(rnd.pick([one, two]).tasks, who, have, limit), expected, `step ${step}`);
          checked += expected.length;
        }
      }
      assert.ok(checked > 100, `the run found tasks (${checked})`);
    });

    it('offers a released task again, never a claimed or completed one', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      await tasks.create({ taskId: 'T', title: 't', files: ['t.ts'] }, 'lead');
      await tasks.create({ taskId: 'D', title: 'd' }, 'lead');
      assert.ok((await tasks.claim('T', 'agent-a')).ok);
      assert.ok((await tasks.claim('D', 'agent-a')).ok);
      assert.ok((await tasks.complete('D', 'agent-a')).ok);
      assert.deepEqual(await ids(tasks, 'agent-b'), []);
      assert.ok((await tasks.release('T', 'agent-a')).ok);
      assert.deepEqual(await ids(tasks, 'agent-b'), ['T']);
    });

    it('detects conflicts: who holds each file, by a lock or a task claim; own holdings are none', async () => {
      const { peer } = await open();
      const one = await peer();
      const two = await peer();
      await two.locks.acquire('locked.ts', 'agent-b', { reason: 'editing', ttlMs: MINUTE });
      await two.tasks.claim('T-9', 'agent-b', ['claimed.ts']);
      await one.locks.acquire('mine.ts', 'agent-a', { ttlMs: MINUTE });
      const conflicts = await one.tasks.detectConflicts(
        ['free.ts', 'claimed.ts', 'mine.ts', 'locked.ts', 'claimed.ts'],
        'agent-a',
      );
      assert.deepEqual(conflicts, [
        { file: 'claimed.ts', holder: 'agent-b', kind: 'task', taskId: 'T-9' },
        { file: 'locked.ts', holder: 'agent-b', kind: 'lock' },
      ]);
      assert.deepEqual(await two.tasks.detectConflicts(['claimed.ts', 'locked.ts'], 'agent-b'), []);
    });

    it('logs steps of a held task: only the claimer, counted, in order, announced', async () => {
      const { peer, events } = await open();
      const one = await peer();
      const two = await peer();
      await one.tasks.create({ taskId: 'T', title: 't' }, 'lead');
      assert.deepEqual(await one.tasks.logStep('T', 'agent-a', 'too early'), {
        ok: false,
        taskId: 'T',
        reason: 'not_claimed',
        holder: '',
        status: 'open',
      });
      assert.ok((await one.tasks.claim('T', 'agent-a')).ok);
      const first = await one.tasks.logStep('T', 'agent-a', 'read the code');
      assert.ok(first.ok);
      const data = { tests: 12, failing: [], nested: { empty: {} } };
      const second = await two.tasks.logStep('T', 'agent-a', 'ran the tests', data);
      assert.ok(second.ok);
      assert.equal(second.task.steps, 2);
      assert.deepEqual(second.step.data, data);
      assert.equal((await two.tasks.logStep('T', 'agent-b', 'not mine')).ok, false);
      assert.deepEqual(await one.tasks.logStep('nope', 'agent-a', 'x'), {
        ok: false,
        taskId: 'nope',
        reason: 'not_found',
      });
      const steps = await two.tasks.steps('T');
      assert.deepEqual(
        steps.map((s) => [s.agentId, s.message, s.data]),
        [
          ['agent-a', 'read the code', undefined],
          ['agent-a', 'ran the tests', data],
        ],
      );
      assert.ok(steps[0]!.id < steps[1]!.id || steps[0]!.id.length < steps[1]!.id.length);
      assert.match(steps[1]!.at, /^\d{4}-\d{2}-\d{2}T/);
      assert.equal((await one.tasks.get('T'))?.steps, 2);
      assert.equal((await one.tasks.list('claimed'))[0]?.title, 't', 'a step keeps the board fields');
      const progress = await events.waitFor(
        (e) => e.type === 'task:progress' && e.data.step === 2,
        'task:progress',
      );
      assert.equal(progress.agentId, 'agent-a');
      assert.equal(progress.data.message, 'ran the tests');
      assert.deepEqual(progress.data.data, data);
      assert.ok((await one.tasks.complete('T', 'agent-a')).ok);
      assert.equal((await one.tasks.get('T'))?.steps, 2, 'completion keeps the count');
      await assert.rejects(one.tasks.logStep('T', 'agent-a', ''), InvalidArgumentError);
      await assert.rejects(
        one.tasks.logStep('T', 'agent-a', 'big', 'x'.repeat(LIMITS.stepDataBytes)),
        /^InvalidArgumentError: data: \d+ bytes of JSON/,
      );
    });

    it('caps a task log at the last steps kept while counting every step', async () => {
      const { peer } = await open();
      const { tasks } = await peer();
      await tasks.claim('T', 'agent-a');
      const total = LIMITS.stepsKept + 5;
      for (let i = 0; i < total; i += 100) {
        const batch = Array.from({ length: Math.min(100, total - i) }, (_, j) => i + j);
        for (const r of await Promise.all(batch.map((n) => tasks.logStep('T', 'agent-a', `step ${n}`)))) {
          assert.ok(r.ok);
        }
      }
      assert.equal((await tasks.get('T'))?.steps, total);
      const kept = await tasks.steps('T', total);
      assert.equal(kept.length, LIMITS.stepsKept);
      assert.equal(kept.at(-1)?.message, `step ${total - 1}`);
      assert.equal(kept[0]?.message, `step ${total - LIMITS.stepsKept}`);
      assert.deepEqual(
        (await tasks.steps('T', 2)).map((s) => s.message),
        [`step ${total - 2}`, `step ${total - 1}`],
      );
    });
  });
}
