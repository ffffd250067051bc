/** The coordinator__ lock and task tools over the embedded (memory) coordination. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { CallToolResult } from '@modelcontextprotocol/server';

import { createBus } from '../../../src/coordination/bus/index.js';
import {
  coordinationTools,
  createCoordination,
  type Coordination,
  type CoordinationTool,
} from '../../../src/coordination/index.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

const ROOT = '/work/repo';

describe('coordination tools', () => {
  let coordination: Coordination;
  let tools: Map<string, CoordinationTool>;
  let agent = 'agent-a';

  const call = async (name: string, args: unknown): Promise<CallToolResult> => tools.get(name)!.handler(args);
  const body = (result: CallToolResult) => {
    const text = result.content[0];
    assert.equal(text?.type, 'text');
    assert.deepEqual(JSON.parse(text.type === 'text' ? text.text : ''), result.structuredContent);
    return result.structuredContent as Record<string, unknown>;
  };
  const rejectsNaming = (promise: Promise<unknown>, field: string) =>
    assert.rejects(
      promise,
      (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith(`${field}:`),
    );

  beforeEach(async () => {
    agent = 'agent-a';
    coordination = await createCoordination({
      prefix: 'mcp:',
      lockTtlMs: 45_000,
      agentTtlMs: 30_000,
      workspaceRoot: ROOT,
      bus: await createBus({
        prefix: 'mcp:',
        streamMaxLen: 100,
        source: 's',
        agentId: '-',
        logger: silentLogger,
      }),
      source: 'coord-test',
    });
    const list = coordinationTools({
      locks: coordination.locks,
      tasks: coordination.tasks,
      agents: coordination.agents,
      state: coordination.state,
      caches: coordination.caches,
      agentId: () => agent,
      workspaceRoot: ROOT,
      lockTtlMs: coordination.lockTtlMs,
    });
    tools = new Map(list.map((t) => [t.name, t]));
  });
  afterEach(() => coordination.close());

  it('offers the lock, task and board tools with JSON Schemas generated from their validators', () => {
    assert.deepEqual(
      [...tools.keys()],
      [
        'lock_file',
        'unlock_file',
        'list_locks',
        'claim_task',
        'complete_task',
        'release_task',
        'list_tasks',
        'create_task',
        'find_tasks',
        'detect_conflicts',
        'log_step',
        'register_agent',
        'list_agents',
        'set_state',
        'get_state',
        'delete_state',
        'invalidate_cache',
      ],
    );
    const lock = tools.get('lock_file')!;
    assert.equal(lock.inputSchema.type, 'object');
    assert.deepEqual(lock.inputSchema.required, ['file']);
    assert.deepEqual(Object.keys(lock.inputSchema.properties ?? {}), ['file', 'reason', 'ttlMs']);
    assert.equal('$schema' in lock.inputSchema, false);
    assert.deepEqual((tools.get('list_tasks')!.inputSchema.properties?.status as { enum: string[] }).enum, [
      'open',
      'claimed',
      'completed',
      'released',
    ]);
    for (const t of tools.values()) assert.ok(t.description.length > 10, t.name);
  });

  it('locks a file with the default TTL and reports it', async () => {
    const before = Date.now();
    const result = await call('lock_file', { file: './src/a.ts', reason: 'edit' });
    assert.equal(result.isError, undefined);
    const lock = body(result);
    assert.equal(lock.locked, true);
    assert.equal(lock.file, 'src/a.ts');
    assert.equal(lock.holder, 'agent-a');
    assert.equal(lock.reason, 'edit');
    assert.equal('token' in lock, false);
    const ttl = Date.parse(lock.expiresAt as string) - before;
    assert.ok(ttl >= 45_000 && ttl < 46_000, `ttl ${ttl}`);
  });

  it('refuses a file held by another agent under any spelling, with holder, reason and expiry', async () => {
    const held = body(await call('lock_file', { file: 'src/x/../a.ts', reason: 'edit', ttlMs: 5_000 }));
    agent = 'agent-b';
    const refused = await call('lock_file', { file: `${ROOT}/src/a.ts` });
    assert.equal(refused.isError, true);
    assert.deepEqual(body(refused), {
      locked: false,
      file: 'src/a.ts',
      holder: 'agent-a',
      reason: 'edit',
      expiresAt: held.expiresAt,
    });
  });

  it('unlocks only for the holder; unlocking a free file is not an error', async () => {
    await call('lock_file', { file: 'a.ts' });
    agent = 'agent-b';
    const denied = await call('unlock_file', { file: 'a.ts' });
    assert.equal(denied.isError, true);
    assert.equal(body(denied).holder, 'agent-a');
    agent = 'agent-a';
    const unlocked = body(await call('unlock_file', { file: 'a.ts' }));
    assert.equal(unlocked.unlocked, true);
    assert.equal(unlocked.file, 'a.ts');
    assert.match(unlocked.releasedAt as string, /^\d{4}-\d{2}-\d{2}T/);
    const again = await call('unlock_file', { file: 'a.ts' });
    assert.equal(again.isError, undefined);
    assert.equal(body(again).unlocked, false);
  });

  it('lists locks without internal fields', async () => {
    await call('lock_file', { file: 'b.ts' });
    await call('lock_file', { file: 'a.ts', reason: 'r' });
    const { locks } = body(await call('list_locks', {})) as { locks: Array<Record<string, unknown>> };
    assert.deepEqual(
      locks.map((l) => [l.file, l.holder, 'token' in l]),
      [
        ['a.ts', 'agent-a', false],
        ['b.ts', 'agent-a', false],
      ],
    );
    assert.deepEqual(body(await call('list_locks', undefined)).locks, locks, 'no arguments at all is fine');
  });

  it('claims, refuses, completes and releases tasks', async () => {
    const claimed = body(await call('claim_task', { taskId: 'T-1', files: ['./a.ts', 'b.ts'] }));
    assert.equal(claimed.claimed, true);
    assert.deepEqual((claimed.task as { files: string[] }).files, ['a.ts', 'b.ts']);

    agent = 'agent-b';
    const taskConflict = await call('claim_task', { taskId: 'T-1' });
    assert.equal(taskConflict.isError, true);
    assert.deepEqual(body(taskConflict), {
      claimed: false,
      conflict: 'task',
      taskId: 'T-1',
      holder: 'agent-a',
      status: 'claimed',
    });
    const fileConflict = await call('claim_task', { taskId: 'T-2', files: ['c.ts', 'b.ts'] });
    assert.equal(fileConflict.isError, true);
    const conflict = body(fileConflict);
    assert.equal(conflict.conflict, 'file');
    assert.equal(conflict.file, 'b.ts');
    assert.equal(conflict.holder, 'agent-a');
    assert.equal(conflict.reason, 'task T-1');
    const notMine = await call('complete_task', { taskId: 'T-1' });
    assert.equal(notMine.isError, true);
    assert.equal(body(notMine).holder, 'agent-a');

    agent = 'agent-a';
    const done = body(await call('complete_task', { taskId: 'T-1', result: { ok: 1 } }));
    assert.equal(done.completed, true);
    assert.deepEqual((done.task as { result: unknown }).result, { ok: 1 });
    assert.deepEqual(body(await call('list_locks', {})).locks, []);

    await call('claim_task', { taskId: 'T-3' });
    assert.equal(body(await call('release_task', { taskId: 'T-3' })).released, true);
    const missing = await call('release_task', { taskId: 'nope' });
    assert.equal(missing.isError, true);
    assert.equal(body(missing).reason, 'not_found');

    const completed = body(await call('list_tasks', { status: 'completed' })) as {
      tasks: Array<{ taskId: string }>;
    };
    assert.deepEqual(
      completed.tasks.map((t) => t.taskId),
      ['T-1'],
    );
    assert.equal((body(await call('list_tasks', {})).tasks as unknown[]).length, 2);
  });

  it('rejects bad arguments with InvalidArgumentError naming the field', async () => {
    await rejectsNaming(call('lock_file', {}), 'file');
    await rejectsNaming(call('lock_file', { file: '' }), 'file');
    await rejectsNaming(call('lock_file', { file: 'a.ts', ttlMs: -5 }), 'ttlMs');
    await rejectsNaming(call('lock_file', { file: 'a.ts', ttlMs: 'soon' }), 'ttlMs');
    await rejectsNaming(call('claim_task', { taskId: 'T', files: ['a.ts', 7] }), 'files.1');
    await rejectsNaming(call('list_tasks', { status: 'pending' }), 'status');
    await rejectsNaming(call('unlock_file', 'a.ts'), 'arguments');
    await rejectsNaming(call('lock_file', { file: '../outside.ts' }), 'file');
    assert.deepEqual(body(await call('list_locks', {})).locks, []);
  });

  it('refuses a task result over the cap with a clear error, and keeps the task claimed', async () => {
    await call('claim_task', { taskId: 'T-big' });
    await rejectsNaming(
      call('complete_task', { taskId: 'T-big', result: { log: 'x'.repeat(2 * 1024 * 1024) } }),
      'result',
    );
    await assert.rejects(
      call('complete_task', { taskId: 'T-big', result: 'x'.repeat(70_000) }),
      /a task result may be at most 65536 bytes/,
    );
    const listed = body(await call('list_tasks', {})) as { tasks: Array<{ taskId: string; status: string }> };
    assert.deepEqual(
      listed.tasks.map((t) => [t.taskId, t.status]),
      [['T-big', 'claimed']],
    );
    assert.equal(
      body(await call('complete_task', { taskId: 'T-big', result: 'x'.repeat(60_000) })).completed,
      true,
    );
  });

  it('bounds list_tasks: as many tasks as fit, and a note saying how many were left out', async () => {
    for (let i = 0; i < 40; i++) {
      await call('claim_task', { taskId: `T-${i}` });
      await call('complete_task', { taskId: `T-${i}`, result: 'r'.repeat(60_000) });
    }
    const result = await call('list_tasks', {});
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    assert.ok(Buffer.byteLength(text) <= 1024 * 1024, `${Buffer.byteLength(text)} bytes of text`);
    const listed = body(result) as {
      tasks: unknown[];
      truncated: { shown: number; total: number; note: string };
    };
    assert.equal(listed.truncated.total, 40);
    assert.equal(listed.truncated.shown, listed.tasks.length);
    assert.ok(listed.tasks.length > 0 && listed.tasks.length < 40);
    assert.match(listed.truncated.note, /only the first \d+ of 40 tasks fit in one result/);
  });

  it('runs the board: create, find, check files, claim, log steps, list with holder and steps', async () => {
    agent = 'lead';
    const created = body(
      await call('create_task', {
        taskId: 'B-1',
        title: 'Refactor the parser',
        files: ['./src/x/../parser.ts'],
        capabilities: ['typescript'],
        priority: 3,
      }),
    );
    assert.equal(created.created, true);
    assert.deepEqual((created.task as { files: string[] }).files, ['src/parser.ts']);
    const dup = await call('create_task', { taskId: 'B-1', title: 'again' });
    assert.equal(dup.isError, true);
    assert.equal(body(dup).reason, 'exists');

    agent = 'agent-a';
    assert.deepEqual(body(await call('find_tasks', {})).tasks, [], 'no capabilities: nothing fits');
    const found = body(await call('find_tasks', { capabilities: ['typescript'] }));
    assert.deepEqual(
      (found.tasks as Array<{ taskId: string; holder: unknown; steps: number }>).map((t) => [
        t.taskId,
        t.holder,
        t.steps,
      ]),
      [['B-1', null, 0]],
    );
    assert.deepEqual(found.capabilities, ['typescript']);
    assert.deepEqual(body(await call('detect_conflicts', { files: [`${ROOT}/src/parser.ts`] })), {
      conflicts: [],
    });
    assert.equal(body(await call('claim_task', { taskId: 'B-1' })).claimed, true);
    const logged = body(
      await call('log_step', { taskId: 'B-1', message: 'split the lexer', data: { n: 1 } }),
    );
    assert.equal(logged.logged, true);
    assert.equal(logged.steps, 1);
    assert.equal((logged.step as { message: string }).message, 'split the lexer');

    agent = 'agent-b';
    assert.deepEqual(body(await call('detect_conflicts', { files: ['src/parser.ts', 'other.ts'] })), {
      conflicts: [{ file: 'src/parser.ts', holder: 'agent-a', kind: 'task', taskId: 'B-1' }],
    });
    const notMine = await call('log_step', { taskId: 'B-1', message: 'me too' });
    assert.equal(notMine.isError, true);
    assert.deepEqual(body(notMine), {
      logged: false,
      taskId: 'B-1',
      reason: 'not_claimer',
      holder: 'agent-a',
      status: 'claimed',
      error: 'the task is claimed by another agent',
    });
    const listed = body(await call('list_tasks', { status: 'claimed' })) as {
      tasks: Array<Record<string, unknown>>;
    };
    assert.deepEqual(
      listed.tasks.map((t) => [t.taskId, t.status, t.holder, t.files, t.steps, t.title]),
      [['B-1', 'claimed', 'agent-a', ['src/parser.ts'], 1, 'Refactor the parser']],
    );
  });

  it('caps every board argument with an error naming the field', async () => {
    await rejectsNaming(call('create_task', {}), 'title');
    await rejectsNaming(call('create_task', { title: 'x'.repeat(201) }), 'title');
    await rejectsNaming(call('create_task', { title: 't', capabilities: [1] }), 'capabilities.0');
    await rejectsNaming(
      call('create_task', { title: 't', capabilities: Array(33).fill('c') }),
      'capabilities',
    );
    await rejectsNaming(call('create_task', { title: 't', files: ['../out.ts'] }), 'file');
    await rejectsNaming(call('create_task', { title: 't', dependsOn: ['missing'] }), 'dependsOn');
    await rejectsNaming(call('find_tasks', { limit: 0 }), 'limit');
    await rejectsNaming(call('find_tasks', { limit: 101 }), 'limit');
    await rejectsNaming(call('detect_conflicts', { files: [] }), 'files');
    await rejectsNaming(call('detect_conflicts', { files: Array(1_001).fill('a.ts') }), 'files');
    await rejectsNaming(call('log_step', { taskId: 'T', message: '' }), 'message');
    await rejectsNaming(call('log_step', { taskId: 'T', message: 'm'.repeat(2_001) }), 'message');
    await call('claim_task', { taskId: 'T' });
    await rejectsNaming(call('log_step', { taskId: 'T', message: 'm', data: 'd'.repeat(20_000) }), 'data');
  });

  it('shares state: set with a TTL, get, delete; a value over the cap names the field', async () => {
    const set = body(await call('set_state', { key: 'build/main', value: { green: true }, ttlMs: 60_000 }));
    assert.deepEqual(
      [set.set, set.key, set.created, typeof set.expiresAt],
      [true, 'build/main', true, 'string'],
    );
    agent = 'agent-b';
    assert.deepEqual(body(await call('get_state', { key: 'build/main' })), {
      key: 'build/main',
      found: true,
      value: { green: true },
      expiresAt: set.expiresAt,
    });
    assert.deepEqual(body(await call('delete_state', { key: 'build/main' })), {
      key: 'build/main',
      deleted: true,
    });
    assert.deepEqual(body(await call('get_state', { key: 'build/main' })), {
      key: 'build/main',
      found: false,
    });
    await rejectsNaming(call('set_state', { key: 'k', value: 'x'.repeat(70_000) }), 'value');
    await rejectsNaming(call('set_state', { key: 'bad key', value: 1 }), 'key');
    await rejectsNaming(call('set_state', { key: 'k', value: 1, ttlMs: 0 }), 'ttlMs');
    await rejectsNaming(call('invalidate_cache', { pattern: '[x]' }), 'pattern');
    assert.deepEqual(body(await call('invalidate_cache', { pattern: 'memory__*', reason: 'rewrote' })), {
      invalidated: true,
      pattern: 'memory__*',
      droppedHere: 0,
    });
  });
});
