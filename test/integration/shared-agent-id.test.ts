/**
 * Two IDE windows started with one MCP_AGENT_ID: two `serve` stdio coordinator processes (the
 * built CLI) on one real redis-server. They are two holders: a lock or task one window holds is
 * refused to the other (saying it is the same agent id in another window), the other cannot
 * release it, and a window ending frees its own locks and claims only. The agent leaves (one
 * `agent:left`) when the last window does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Redis } from 'ioredis';
import {
  alive,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const sc = <T>(r: CallToolResult) => r.structuredContent as T;
const AGENT = 'shared-agent';

describe('two stdio windows with one MCP_AGENT_ID', () => {
  const dir = tempDir();
  let redis: RedisServer;
  let inspect: Redis;
  let a: StartedCoordinator;
  let b: StartedCoordinator;

  before(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await inspect.connect();
    const config = writeConfig(dir.path, {
      servers: {},
      coordination: { redis: redis.url, prefix: 'win:', workspaceRoot: dir.path },
    });
    a = await startCoordinator(config, { env: { MCP_AGENT_ID: AGENT }, clientName: 'window-a' });
    b = await startCoordinator(config, { env: { MCP_AGENT_ID: AGENT }, clientName: 'window-b' });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    inspect?.disconnect();
    await redis?.stop();
    dir.remove();
  });

  const tool = (c: StartedCoordinator, name: string, args: Record<string, unknown>) =>
    c.client.callTool({ name: `coordinator__${name}`, arguments: args }) as Promise<CallToolResult>;

  test('a lock of window A is refused to window B, which cannot unlock it; A ending frees only its own', async () => {
    const got = await tool(a, 'lock_file', { file: 'src/a.ts', reason: 'window A edits' });
    assert.equal(got.isError, undefined);
    const granted = sc<Record<string, unknown>>(got);
    assert.equal(granted.locked, true);
    assert.equal(granted.holder, AGENT);
    assert.equal('owner' in granted, false, 'the owner token is not shown');
    assert.equal('token' in granted, false);

    // Stored with the holder's agent id and an owner (the window's process), which results never show.
    const stored = JSON.parse((await inspect.get('win:lock:src/a.ts')) ?? '{}') as Record<string, unknown>;
    assert.equal(stored.holder, AGENT);
    assert.equal(typeof stored.owner, 'string');
    assert.ok((stored.owner as string).length > 0);

    const refused = await tool(b, 'lock_file', { file: 'src/a.ts' });
    assert.equal(refused.isError, true, 'same agent id, other window: refused, not "extended"');
    const body = sc<Record<string, unknown>>(refused);
    assert.equal(body.locked, false);
    assert.equal(body.holder, AGENT);
    assert.equal(body.reason, 'window A edits');
    assert.match(String(body.error), /same agent id .* another session or window/);
    assert.equal('owner' in body, false);

    const unlock = await tool(b, 'unlock_file', { file: 'src/a.ts' });
    assert.equal(unlock.isError, true);
    assert.match(String(sc<Record<string, unknown>>(unlock).reason), /another session of this agent/);
    assert.ok(await inspect.get('win:lock:src/a.ts'), 'still locked after B tried to unlock it');

    // Each window holds its own things: B a lock and a task, A a task.
    assert.equal((await tool(b, 'lock_file', { file: 'src/b.ts' })).isError, undefined);
    assert.equal((await tool(a, 'claim_task', { taskId: 'T-A', files: ['src/ta.ts'] })).isError, undefined);
    assert.equal((await tool(b, 'claim_task', { taskId: 'T-B', files: ['src/tb.ts'] })).isError, undefined);
    const notB = await tool(b, 'complete_task', { taskId: 'T-A' });
    assert.equal(notB.isError, true);
    assert.match(String(sc<Record<string, unknown>>(notB).error), /another session of this agent/);
    const listed = sc<{ tasks: Array<Record<string, unknown>> }>(await tool(b, 'list_tasks', {}));
    assert.deepEqual(listed.tasks.map((t) => [t.taskId, t.holder, 'owner' in t]).sort(), [
      ['T-A', AGENT, false],
      ['T-B', AGENT, false],
    ]);

    // Window A closes (stdin EOF): its lock, its task and the task's file are freed, B's are not.
    const pid = a.pid;
    await a.close();
    await waitFor(() => !alive(pid), 15_000, 'window A to exit');
    await waitFor(async () => (await inspect.get('win:lock:src/a.ts')) === null, 10_000, "A's lock freed");
    const locks = sc<{ locks: Array<{ file: string; holder: string }> }>(await tool(b, 'list_locks', {}));
    assert.deepEqual(locks.locks.map((l) => [l.file, l.holder]).sort(), [
      ['src/b.ts', AGENT],
      ['src/tb.ts', AGENT],
    ]);
    const tasks = sc<{ tasks: Array<{ taskId: string; status: string }> }>(await tool(b, 'list_tasks', {}));
    assert.deepEqual(tasks.tasks.map((t) => [t.taskId, t.status]).sort(), [
      ['T-A', 'released'],
      ['T-B', 'claimed'],
    ]);

    // B keeps acting on its own, and may now take what A left.
    assert.equal((await tool(b, 'unlock_file', { file: 'src/b.ts' })).isError, undefined);
    assert.equal((await tool(b, 'complete_task', { taskId: 'T-B' })).isError, undefined);
    assert.equal((await tool(b, 'lock_file', { file: 'src/a.ts' })).isError, undefined);

    // The agent has not left while B acts as it: still listed, and no agent:left was published.
    const agents = sc<{ agents: Array<{ agentId: string }> }>(await tool(b, 'list_agents', {}));
    assert.deepEqual(
      agents.agents.map((x) => x.agentId),
      [AGENT],
    );
    const leftEvents = async () =>
      (await inspect.xrange('win:events:stream', '-', '+')).filter(([, fields]) =>
        fields.some((f) => f.includes('"type":"agent:left"')),
      ).length;
    assert.equal(await leftEvents(), 0);

    // B, the last window, ends: now the agent leaves, once.
    const pidB = b.pid;
    await b.close();
    await waitFor(() => !alive(pidB), 15_000, 'window B to exit');
    await waitFor(async () => (await leftEvents()) === 1, 10_000, 'agent:left once B has left');
    assert.deepEqual(await inspect.smembers('win:agents'), []);
    assert.equal(await inspect.get('win:lock:src/a.ts'), null);
  });
});
