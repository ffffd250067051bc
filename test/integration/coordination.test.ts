/**
 * Two coordinator processes, one real redis-server: a lock taken through one is refused through
 * the other (naming the holder), tasks are held by one agent, every coordinator sees the others'
 * servers, and the `events` command replays what happened from the Redis stream.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  fixtureServer,
  MAIN,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const sc = <T>(r: unknown) => (r as CallToolResult).structuredContent as T;

describe('coordination over a shared Redis', () => {
  const dir = tempDir();
  let redis: RedisServer;
  let a: StartedCoordinator;
  let b: StartedCoordinator;
  let configA: string;

  before(async () => {
    redis = await startRedis();
    const coordination = { redis: redis.url, prefix: 'itest:', workspaceRoot: dir.path };
    configA = writeConfig(dir.path, { servers: { alpha: fixtureServer('alpha') }, coordination }, 'a.yml');
    const configB = writeConfig(
      dir.path,
      { servers: { beta: fixtureServer('beta') }, coordination },
      'b.yml',
    );
    a = await startCoordinator(configA, { env: { MCP_AGENT_ID: 'agent-a' } });
    b = await startCoordinator(configB, { env: { MCP_AGENT_ID: 'agent-b' } });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
    dir.remove();
  });

  const tool = (c: StartedCoordinator, name: string, args: Record<string, unknown>) =>
    c.client.callTool({ name: `coordinator__${name}`, arguments: args }) as Promise<CallToolResult>;

  test('a lock held through one coordinator is refused through the other, whatever the spelling', async () => {
    const got = await tool(a, 'lock_file', { file: 'src/app.ts', reason: 'refactoring' });
    assert.equal(got.isError, undefined);
    assert.equal(sc<{ locked: boolean }>(got).locked, true);

    const refused = await tool(b, 'lock_file', { file: './src/../src/app.ts' });
    assert.equal(refused.isError, true);
    const body = sc<{ locked: boolean; file: string; holder: string; reason: string; expiresAt: string }>(
      refused,
    );
    assert.equal(body.locked, false);
    assert.equal(body.file, 'src/app.ts');
    assert.equal(body.holder, 'agent-a');
    assert.equal(body.reason, 'refactoring');
    assert.ok(!Number.isNaN(Date.parse(body.expiresAt)));

    const listed = sc<{ locks: Array<{ file: string; holder: string }> }>(await tool(b, 'list_locks', {}));
    assert.ok(listed.locks.some((l) => l.file === 'src/app.ts' && l.holder === 'agent-a'));

    const notYours = await tool(b, 'unlock_file', { file: 'src/app.ts' });
    assert.equal(notYours.isError, true);
    assert.equal((await tool(a, 'unlock_file', { file: 'src/app.ts' })).isError, undefined);
    assert.equal((await tool(b, 'lock_file', { file: 'src/app.ts' })).isError, undefined);
  });

  test('a path escaping the workspace is a clear error', async () => {
    await assert.rejects(tool(a, 'lock_file', { file: '../outside.txt' }), /outside|escapes|\.\./);
  });

  test('a task is held by one agent; its files are all locked or none', async () => {
    const claimed = await tool(a, 'claim_task', { taskId: 'T-1', files: ['docs/a.md', 'docs/b.md'] });
    assert.equal(claimed.isError, undefined);
    const taken = await tool(b, 'claim_task', { taskId: 'T-1' });
    assert.equal(taken.isError, true);
    // b holds src/app.ts from the previous test: a's claim of T-2 conflicts and leaves nothing behind.
    const conflict = await tool(a, 'claim_task', { taskId: 'T-2', files: ['docs/c.md', 'src/app.ts'] });
    assert.equal(conflict.isError, true);
    assert.match(JSON.stringify(conflict.structuredContent), /agent-b/);
    const locks = sc<{ locks: Array<{ file: string }> }>(await tool(b, 'list_locks', {}));
    assert.ok(!locks.locks.some((l) => l.file === 'docs/c.md'), 'no partial claim left behind');

    assert.equal(
      (await tool(b, 'complete_task', { taskId: 'T-1' })).isError,
      true,
      'only the claimer completes',
    );
    assert.equal(
      (await tool(a, 'complete_task', { taskId: 'T-1', result: { ok: true } })).isError,
      undefined,
    );
    const tasks = sc<{ tasks: Array<{ taskId: string; status: string }> }>(
      await tool(b, 'list_tasks', { status: 'completed' }),
    );
    assert.ok(tasks.tasks.some((t) => t.taskId === 'T-1'));
  });

  test('the task board across coordinators: create, find, check, claim, log, list', async () => {
    const created = await tool(a, 'create_task', {
      taskId: 'B-1',
      title: 'Write the board docs',
      files: ['docs/board.md'],
      capabilities: ['writing'],
      priority: 2,
    });
    assert.equal(created.isError, undefined);
    const found = sc<{ tasks: Array<{ taskId: string }> }>(
      await tool(b, 'find_tasks', { capabilities: ['writing'] }),
    );
    assert.deepEqual(
      found.tasks.map((t) => t.taskId),
      ['B-1'],
    );
    assert.deepEqual(sc(await tool(b, 'detect_conflicts', { files: ['docs/board.md'] })), { conflicts: [] });
    assert.equal((await tool(b, 'claim_task', { taskId: 'B-1' })).isError, undefined);
    assert.deepEqual(sc(await tool(a, 'detect_conflicts', { files: ['./docs/board.md'] })), {
      conflicts: [{ file: 'docs/board.md', holder: 'agent-b', kind: 'task', taskId: 'B-1' }],
    });
    assert.equal((await tool(b, 'log_step', { taskId: 'B-1', message: 'outlined' })).isError, undefined);
    const listed = sc<{ tasks: Array<{ taskId: string; holder: string; steps: number; files: string[] }> }>(
      await tool(a, 'list_tasks', { status: 'claimed' }),
    );
    const task = listed.tasks.find((t) => t.taskId === 'B-1');
    assert.deepEqual([task?.holder, task?.steps, task?.files], ['agent-b', 1, ['docs/board.md']]);
    assert.equal((await tool(b, 'complete_task', { taskId: 'B-1' })).isError, undefined);
  });

  test('agents: a profile set through one coordinator is listed by the other, status following claims', async () => {
    const registered = await tool(a, 'register_agent', {
      capabilities: ['docs'],
      metadata: { team: 'core' },
    });
    assert.equal(registered.isError, undefined);
    const agentA = async () =>
      sc<{ agents: Array<{ agentId: string; capabilities: string[]; status: string; metadata: object }> }>(
        await tool(b, 'list_agents', {}),
      ).agents.find((x) => x.agentId === 'agent-a');
    assert.deepEqual(await agentA().then((x) => [x?.capabilities, x?.status, x?.metadata]), [
      ['docs'],
      'idle',
      { team: 'core' },
    ]);
    assert.equal((await tool(a, 'claim_task', { taskId: 'A-1' })).isError, undefined);
    assert.equal((await agentA())?.status, 'working');
    assert.equal((await tool(a, 'release_task', { taskId: 'A-1' })).isError, undefined);
    assert.equal((await agentA())?.status, 'idle');
  });

  test('each coordinator sees the servers of every coordinator, marked by owner; health shows Redis', async () => {
    const servers = await waitFor(
      async () => {
        const s = sc<{ registry: Array<{ serverId: string; owner: string }> }>(await tool(a, 'servers', {}));
        return s.registry.some((e) => e.serverId === 'beta') && s.registry.some((e) => e.serverId === 'alpha')
          ? s
          : undefined;
      },
      10_000,
      'both servers in the registry',
    );
    const owners = new Set(servers.registry.map((e) => e.owner));
    assert.equal(owners.size, 2);
    const health = sc<{ dependencies: { redis: string } }>(await tool(a, 'health', {}));
    assert.equal(health.dependencies.redis, 'connected');
  });

  test('a library client (import from the package) sees the coordinators and they see it', async () => {
    const { CoordinationClient } = await import('mcp-coordinator');
    const client = await CoordinationClient.connect({
      redisUrl: redis.url,
      prefix: 'itest:',
      agentId: 'ci-bot',
      workspaceRoot: dir.path,
    });
    try {
      const seen: string[] = [];
      const stop = client.subscribe((e) => void seen.push(`${e.type} ${String(e.data.file)}`), 'file:*');
      assert.equal((await client.lock('lib/owned.ts', { reason: 'bot run' })).ok, true);
      const refused = await tool(a, 'lock_file', { file: 'lib/owned.ts' });
      assert.equal(sc<{ holder: string }>(refused).holder, 'ci-bot');
      assert.equal((await tool(a, 'lock_file', { file: 'lib/agent-a.ts' })).isError, undefined);
      const byA = await client.lock('lib/agent-a.ts');
      assert.equal(byA.ok, false);
      assert.ok(
        (await client.listLocks()).some((l) => l.file === 'lib/agent-a.ts' && l.holder === 'agent-a'),
      );
      await waitFor(
        () => seen.includes('file:locked lib/agent-a.ts'),
        5_000,
        'the coordinator event at the client',
      );
      stop();
      assert.equal((await client.unlock('lib/owned.ts')).ok, true);
    } finally {
      await client.close();
    }
  });

  test('the events command replays the shared history as JSON lines', () => {
    const r = spawnSync(process.execPath, [MAIN, 'events', '--type', 'file:*', '--config', configA], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            agentId: string;
            data: { file?: string };
            timestamp: string;
            id: string;
          },
      );
    assert.ok(events.length >= 3);
    for (const e of events) {
      assert.match(e.type, /^file:/);
      assert.ok(e.id && e.timestamp && e.agentId);
    }
    assert.ok(
      events.some((e) => e.type === 'file:locked' && e.agentId === 'agent-a' && e.data.file === 'src/app.ts'),
    );
    assert.ok(events.some((e) => e.type === 'file:unlocked'));
  });
});

describe('an agent that leaves', () => {
  test("its coordinator's exit publishes agent:left and frees its locks at once", async () => {
    const dir = tempDir();
    const redis = await startRedis();
    try {
      const coordination = {
        redis: redis.url,
        prefix: 'leave:',
        workspaceRoot: dir.path,
        lockTtlMs: 600_000,
      };
      const file = writeConfig(dir.path, { servers: {}, coordination, cacheDir: '' });
      const leaving = await startCoordinator(file, { env: { MCP_AGENT_ID: 'leaver' }, clientName: 'cursor' });
      const staying = await startCoordinator(file, { env: { MCP_AGENT_ID: 'stayer' } });
      try {
        const lock = (c: StartedCoordinator) =>
          c.client.callTool({
            name: 'coordinator__lock_file',
            arguments: { file: 'x.ts' },
          }) as Promise<CallToolResult>;
        assert.equal((await lock(leaving)).isError, undefined);
        assert.equal((await lock(staying)).isError, true);
        await leaving.close();
        // Well before the 10-minute TTL: released because its agent left.
        await waitFor(async () => (await lock(staying)).isError === undefined, 10_000, 'the lock freed');
        const events = sc<{
          events: Array<{ type: string; agentId: string; data: Record<string, unknown> }>;
        }>(
          await staying.client.callTool({ name: 'coordinator__events', arguments: { type: 'agent:*' } }),
        ).events;
        const registered = events.find((e) => e.type === 'agent:registered' && e.agentId === 'leaver');
        assert.equal((registered?.data.clientInfo as { name?: string } | undefined)?.name, 'cursor');
        assert.ok(events.some((e) => e.type === 'agent:left' && e.agentId === 'leaver'));
      } finally {
        await staying.close();
      }
    } finally {
      await redis.stop();
      dir.remove();
    }
  });
});
