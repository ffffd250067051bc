import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ChildGroups } from '../../../src/downstream/child-groups.js';
import { EarlyChildren } from '../../../src/downstream/early.js';
import { ChildProcessTransport } from '../../../src/downstream/stdio-transport.js';
import { TransportFailureError } from '../../../src/shared/errors.js';
import { isAlive, remote, stdio, TOOL_SERVER, waitFor, withPool } from './helpers.js';

describe('ChildProcessTransport.prespawn', () => {
  it('spawns the child at once, sends nothing, and start() later attaches the session to it', async () => {
    const lines: string[] = [];
    const t = new ChildProcessTransport({
      serverId: 'fx',
      command: process.execPath,
      args: [TOOL_SERVER, '--name', 'early'],
      env: {},
      onStderrLine: (line) => lines.push(line),
      groups: new ChildGroups(),
    });
    await t.prespawn();
    const pid = t.pid;
    assert.ok(pid !== undefined && isAlive(pid));
    await waitFor(() => lines.includes('early ready'), 5_000, 'the child to boot');
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(t);
    try {
      assert.equal(t.pid, pid, 'no second child');
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }]);
    } finally {
      await client.close();
    }
    assert.equal(isAlive(pid), false);
  });

  it('gives start() the exit of a child that died before the session began', async () => {
    const t = new ChildProcessTransport({
      serverId: 'fx',
      command: process.execPath,
      args: [TOOL_SERVER, '--exit-after', '50'],
      env: {},
      onStderrLine: () => {},
      groups: new ChildGroups(),
    });
    await t.prespawn();
    const pid = t.pid as number;
    // Reaped (not just a zombie): node has seen the exit by then.
    await waitFor(() => !existsSync(`/proc/${pid}`), 5_000, 'the child to exit');
    await assert.rejects(t.start(), (error: unknown) => {
      assert.ok(error instanceof TransportFailureError);
      assert.equal(error.reason, 'crashed');
      return true;
    });
    await t.close();
  });

  it('gives start() the spawn failure of a command that does not exist', async () => {
    const t = new ChildProcessTransport({
      serverId: 'fx',
      command: 'no-such-mcp-server-xyz',
      args: [],
      env: {},
      onStderrLine: () => {},
      groups: new ChildGroups(),
    });
    await assert.rejects(t.prespawn(), /not found/);
    await assert.rejects(
      t.start(),
      (error: unknown) => error instanceof TransportFailureError && error.reason === 'spawn',
    );
  });
});

describe('EarlyChildren', () => {
  it('spawns enabled eager stdio servers only', async () => {
    const early = EarlyChildren.spawn({
      a: stdio(['--name', 'a']),
      lazy: stdio(['--name', 'lazy'], { startup: 'lazy' }),
      off: stdio(['--name', 'off'], { enabled: false }),
      web: remote('http://127.0.0.1:9/mcp'),
    });
    try {
      assert.equal(early.size, 1);
      assert.equal(early.groups.size, 1);
    } finally {
      await early.closeRest();
    }
    assert.equal(early.groups.size, 0);
  });

  it('is adopted by the pool: one child per server, its early stderr delivered, sessions as usual', async () => {
    const servers = { a: stdio(['--name', 'a']), b: stdio(['--name', 'b']) };
    const early = EarlyChildren.spawn(servers);
    // Let them boot and speak on stderr before anyone takes them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await withPool(Object.entries(servers), async (pool, recorded) => {
      pool.adoptEarly(early);
      assert.equal(early.size, 0);
      pool.startAll();
      for (const id of ['a', 'b']) await pool.get(id)!.whenReady(10_000);
      await waitFor(() => recorded.stderr.length >= 2, 5_000, 'ready lines');
      // Exactly one "ready" per server: the early child was used, none was spawned again.
      for (const id of ['a', 'b']) {
        assert.deepEqual(
          recorded.stderr.filter((l) => l.id === id).map((l) => l.line),
          [`${id} ready`],
        );
      }
      assert.equal(early.groups.size, 2);
    });
    assert.equal(early.groups.size, 0, 'stopAll reaped the adopted children');
  });

  it('leaves a child spawned for another config to the pool to close', async () => {
    const early = EarlyChildren.spawn({ a: stdio(['--name', 'a']) });
    await withPool([['a', stdio(['--name', 'a-reloaded'])]], async (pool) => {
      pool.adoptEarly(early);
      await waitFor(() => early.groups.size === 0, 5_000, 'the unused child to be closed');
    });
  });

  it('killAllSync() kills what nobody took', async () => {
    const early = EarlyChildren.spawn({ a: stdio(['--name', 'a']) });
    await waitFor(() => early.groups.size === 1, 1_000, 'spawn');
    early.killAllSync();
    assert.equal(early.groups.size, 0);
    await early.closeRest();
  });
});
