import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ChildGroups } from '../../../src/downstream/child-groups.js';
import {
  ChildProcessTransport,
  type StdioTransportOptions,
} from '../../../src/downstream/stdio-transport.js';
import { TransportFailureError } from '../../../src/shared/errors.js';
import { isAlive, TOOL_SERVER, waitFor } from './helpers.js';

function transport(overrides: Partial<StdioTransportOptions> = {}) {
  const lines: string[] = [];
  const groups = new ChildGroups();
  const t = new ChildProcessTransport({
    serverId: 'fx',
    command: process.execPath,
    args: [TOOL_SERVER],
    env: {},
    onStderrLine: (line) => lines.push(line),
    groups,
    ...overrides,
  });
  return { t, lines, groups };
}

async function grandchildOf(lines: string[]): Promise<number> {
  await waitFor(() => lines.some((l) => l.startsWith('grandchild ')), 5_000, 'grandchild line');
  return Number(lines.find((l) => l.startsWith('grandchild '))?.split(' ')[1]);
}

describe('ChildProcessTransport', () => {
  it('passes args, env and cwd to the child and forwards its stderr line by line', async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'mcp-coord-')));
    const { t, lines } = transport({
      args: [TOOL_SERVER, '--name', 'argy', '--introspect'],
      env: { COORD_TEST_VAR: 'from-config' },
      cwd,
    });
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(t);
    try {
      const result = await client.callTool({ name: 'introspect', arguments: { env: 'COORD_TEST_VAR' } });
      assert.deepEqual(result.structuredContent, {
        cwd,
        argv: ['--name', 'argy', '--introspect'],
        env: 'from-config',
      });
      // The coordinator's own environment is inherited underneath the configured one.
      const path = await client.callTool({ name: 'introspect', arguments: { env: 'PATH' } });
      assert.equal((path.structuredContent as { env: string }).env, process.env.PATH);
      await waitFor(() => lines.includes('argy ready'), 5_000, 'stderr ready line');
    } finally {
      await client.close();
    }
  });

  it('rejects start() at once when the command does not exist, naming it', async () => {
    const { t, groups } = transport({ command: 'no-such-mcp-server-xyz', args: [] });
    let closed = false;
    const errors: Error[] = [];
    t.onclose = () => (closed = true);
    t.onerror = (error) => errors.push(error);
    const started = Date.now();
    await assert.rejects(t.start(), (error: unknown) => {
      assert.ok(error instanceof TransportFailureError);
      assert.equal(error.reason, 'spawn');
      assert.equal(error.serverId, 'fx');
      assert.match(error.message, /command "no-such-mcp-server-xyz" not found/);
      return true;
    });
    assert.ok(Date.now() - started < 1_000, 'spawn failure must not wait for a timeout');
    await waitFor(() => closed, 1_000, 'onclose');
    assert.equal(errors.length, 1);
    assert.equal(groups.size, 0);
  });

  it('names a missing working directory instead of blaming the command', async () => {
    const { t } = transport({ cwd: '/definitely/not/here' });
    await assert.rejects(t.start(), /working directory "\/definitely\/not\/here" does not exist/);
  });

  it('close() ends the child and its whole process group within 5 s', async () => {
    const { t, lines, groups } = transport({ args: [TOOL_SERVER, '--spawn-grandchild'] });
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(t);
    const pid = t.pid;
    assert.ok(pid !== undefined);
    const grandchild = await grandchildOf(lines);
    assert.ok(isAlive(pid) && isAlive(grandchild));
    assert.equal(groups.size, 1);
    const started = Date.now();
    await client.close();
    assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
    assert.equal(isAlive(pid), false, 'child still alive');
    assert.equal(isAlive(grandchild), false, 'grandchild still alive');
    assert.equal(groups.size, 0);
  });

  it('close() of a child that leaves on stdin EOF leaves no timer behind to hold the process', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const { t, lines } = transport({ args: [TOOL_SERVER, '--name', 'eof'] });
    await t.start();
    await waitFor(() => lines.includes('eof ready'), 5_000, 'stderr ready line');
    const before = timers();
    await t.close();
    assert.equal(isAlive(t.pid!), false, 'child still alive');
    // A grace timer left pending after the exit kept one-shot commands alive for its 1.5 s.
    assert.equal(
      timers(),
      before,
      `timers pending after close: ${process.getActiveResourcesInfo().join(', ')}`,
    );
  });

  it('reports an unexpected exit through onerror, then onclose, and reaps the group', async () => {
    const { t, lines, groups } = transport({
      args: [TOOL_SERVER, '--spawn-grandchild', '--exit-after', '400'],
    });
    const client = new Client({ name: 'test', version: '1' });
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    const closed = new Promise<void>((resolve) => (client.onclose = resolve));
    await client.connect(t);
    const grandchild = await grandchildOf(lines);
    await closed;
    const exit = errors.find((e) => e instanceof TransportFailureError);
    assert.ok(exit instanceof TransportFailureError);
    assert.equal(exit.reason, 'crashed');
    assert.match(exit.message, /^fx: process exited with code 4$/);
    await t.close(); // joins the reaping already under way
    assert.equal(isAlive(grandchild), false);
    assert.equal(groups.size, 0);
  });

  it('killAllSync() SIGKILLs every live group synchronously', async () => {
    const { t, lines, groups } = transport({ args: [TOOL_SERVER, '--spawn-grandchild'] });
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(t);
    const pid = t.pid as number;
    const grandchild = await grandchildOf(lines);
    groups.killAllSync();
    assert.equal(groups.size, 0);
    await waitFor(() => !isAlive(pid) && !isAlive(grandchild), 2_000, 'group to die');
    await client.close();
  });
});
