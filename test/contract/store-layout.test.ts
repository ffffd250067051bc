/**
 * The Redis layout that CONTRACT.md fixes (and the task and agent keys we chose), read back with
 * plain Redis commands, as another tool or a human with redis-cli would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { createBus } from '../../src/coordination/bus/index.js';
import { createCoordination, type Coordination } from '../../src/coordination/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

describe('redis layout', () => {
  let server: RedisServer;
  let coordination: Coordination;
  let raw: Redis;

  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    coordination = await createCoordination({
      redisUrl: server.url,
      prefix: 'mcp:',
      lockTtlMs: 60_000,
      agentTtlMs: 30_000,
      workspaceRoot: '/repo',
      bus: await createBus({
        prefix: 'mcp:',
        streamMaxLen: 100,
        source: 'layout',
        agentId: '-',
        logger: silentLogger,
      }),
      source: 'coord-layout',
    });
  });
  after(async () => {
    await coordination.close();
    raw.disconnect();
    await server.stop();
  });

  it('stores a lock as mcp:lock:<file>, JSON with the holder, expiring by PX', async () => {
    await coordination.locks.acquire('src/a.ts', 'agent-a', { reason: 'edit', ttlMs: 60_000 });
    const value = JSON.parse((await raw.get('mcp:lock:src/a.ts')) ?? 'null') as Record<string, unknown>;
    assert.equal(value.holder, 'agent-a');
    assert.equal(value.file, 'src/a.ts');
    assert.equal(value.reason, 'edit');
    const pttl = await raw.pttl('mcp:lock:src/a.ts');
    assert.ok(pttl > 59_000 && pttl <= 60_000, `pttl ${pttl}`);
  });

  it('stores tasks in the hash mcp:tasks, field = task id', async () => {
    await coordination.tasks.claim('T-1', 'agent-a', ['src/b.ts']);
    const value = JSON.parse((await raw.hget('mcp:tasks', 'T-1')) ?? 'null') as Record<string, unknown>;
    assert.equal(value.status, 'claimed');
    assert.equal(value.agentId, 'agent-a');
    assert.deepEqual(value.files, ['src/b.ts']);
    assert.ok((await raw.exists('mcp:lock:src/b.ts')) === 1);
  });

  it('logs a task’s steps in the capped stream {mcp:tasks}:log:<id>, in the slot of mcp:tasks', async () => {
    await coordination.tasks.create({ taskId: 'T-log', title: 'logged' }, 'lead');
    await coordination.tasks.claim('T-log', 'agent-a');
    await coordination.tasks.logStep('T-log', 'agent-a', 'one', { n: 1 });
    const entries = await raw.xrange('{mcp:tasks}:log:T-log', '-', '+');
    assert.equal(entries.length, 1);
    const fields = Object.fromEntries(
      entries[0]![1].reduce<string[][]>(
        (pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v, all[i + 1]!]]),
        [],
      ),
    );
    assert.deepEqual([fields.agentId, fields.message, fields.data], ['agent-a', 'one', '{"n":1}']);
    const task = JSON.parse((await raw.hget('mcp:tasks', 'T-log')) ?? 'null') as Record<string, unknown>;
    assert.deepEqual([task.status, task.title, task.steps], ['claimed', 'logged', 1]);
  });

  it('indexes find_tasks in {mcp:tasks}:open and {mcp:tasks}:claimed-files, tagged like the task logs', async () => {
    // T-1 (claimed by agent-a with src/b.ts) and T-log (claimed) come from the tests above.
    const older = await coordination.tasks.create({ taskId: 'T-open', title: 'open', priority: 3 }, 'lead');
    const newer = await coordination.tasks.create(
      { taskId: 'T-low', title: 'low', files: ['src/b.ts'] },
      'lead',
    );
    assert.ok(older.ok && newer.ok);
    // Best first: score -priority, member "<createdAt>|<taskId>"; '' at +inf marks the set complete.
    assert.deepEqual(await raw.zrange('{mcp:tasks}:open', 0, -1, 'WITHSCORES'), [
      `${older.task.createdAt}|T-open`,
      '-3',
      `${newer.task.createdAt}|T-low`,
      '0',
      '',
      'inf',
    ]);
    assert.deepEqual(await raw.hgetall('{mcp:tasks}:claimed-files'), { 'src/b.ts': '{"agent-a":1}' });
    assert.deepEqual(
      (await coordination.tasks.find('agent-b', [], 10)).map((t) => t.taskId),
      ['T-open'],
      'T-low lists a file of a task agent-a holds',
    );

    // A store written before the index (or by hand): the first script that needs it builds it.
    await raw.del('{mcp:tasks}:open', '{mcp:tasks}:claimed-files');
    await raw.hset(
      'mcp:tasks',
      'T-hand',
      JSON.stringify({
        taskId: 'T-hand',
        status: 'open',
        agentId: '',
        files: [],
        title: 'by hand',
        priority: 9,
        createdAt: '2020-01-01T00:00:00.000Z',
        updatedAt: '2020-01-01T00:00:00.000Z',
      }),
    );
    assert.deepEqual(
      (await coordination.tasks.find('agent-b', [], 10)).map((t) => t.taskId),
      ['T-hand', 'T-open'],
    );
    assert.equal(await raw.zcard('{mcp:tasks}:open'), 4);
    assert.deepEqual(await raw.hgetall('{mcp:tasks}:claimed-files'), { 'src/b.ts': '{"agent-a":1}' });
    // A member whose task changed behind the index's back is dropped by the next walk.
    await raw.hset(
      'mcp:tasks',
      'T-hand',
      JSON.stringify({
        taskId: 'T-hand',
        status: 'completed',
        agentId: 'x',
        files: [],
        updatedAt: '2020-01-02T00:00:00.000Z',
      }),
    );
    assert.deepEqual(
      (await coordination.tasks.find('agent-b', [], 10)).map((t) => t.taskId),
      ['T-open'],
    );
    assert.equal(await raw.zcard('{mcp:tasks}:open'), 3);
  });

  it('stores shared state as mcp:state:<key>: the value’s JSON, expiring by PX when given a TTL', async () => {
    await coordination.state.set('build/main', { green: true, list: [] }, 'agent-a', 60_000);
    assert.equal(await raw.get('mcp:state:build/main'), '{"green":true,"list":[]}');
    const pttl = await raw.pttl('mcp:state:build/main');
    assert.ok(pttl > 59_000 && pttl <= 60_000, `pttl ${pttl}`);
    await coordination.state.set('forever', 1, 'agent-a');
    assert.equal(await raw.pttl('mcp:state:forever'), -1);
    await raw.set('mcp:state:written-by-hand', '[1,"two"]');
    assert.deepEqual((await coordination.state.get('written-by-hand'))?.value, [1, 'two']);
  });

  it('keeps an agent as mcp:agent:<id> with the agent TTL, listed in the set mcp:agents', async () => {
    await coordination.agents.register('agent-a', { name: 'cursor' });
    const pttl = await raw.pttl('mcp:agent:agent-a');
    assert.ok(pttl > 29_000 && pttl <= 30_000, `pttl ${pttl}`);
    assert.deepEqual(await raw.smembers('mcp:agents'), ['agent-a']);
    // The processes acting as it: field = owner token, value = when its presence lapses (ms).
    const owners = await raw.hgetall('mcp:agent-owners:agent-a');
    assert.deepEqual(Object.keys(owners), [coordination.owner]);
    const lapses = Number(owners[coordination.owner]);
    assert.ok(lapses > Date.now() + 25_000 && lapses <= Date.now() + 30_000, `lapses ${lapses}`);
    assert.ok((await raw.pttl('mcp:agent-owners:agent-a')) > 29_000);
  });

  it('keeps the registry in the hash mcp:servers:registry, field = server id', async () => {
    await coordination.registry.upsert({
      serverId: 'memory',
      name: 'memory-server',
      version: '1.0.0',
      tools: ['read_graph'],
      status: 'connected',
      transport: 'stdio',
    });
    const value = JSON.parse((await raw.hget('mcp:servers:registry', 'memory')) ?? 'null') as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(value).sort(), [
      'lastSeen',
      'name',
      'owner',
      'serverId',
      'status',
      'tools',
      'transport',
      'version',
    ]);
    assert.equal(value.owner, 'coord-layout');
    assert.deepEqual(value.tools, ['read_graph']);
  });
});
