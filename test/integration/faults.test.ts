/**
 * Bad input and faults: a crashing, a hanging and a missing server next to healthy ones, a
 * server still starting, malformed JSON-RPC on stdin, and no orphans whatever ends the coordinator.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  fixtureServer,
  alive,
  rawCoordinator,
  startCoordinator,
  tempDir,
  waitFor,
  warmUp,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';

const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('one broken downstream never takes the others down', () => {
  const dir = tempDir();
  let c: StartedCoordinator;

  before(async () => {
    const file = writeConfig(dir.path, {
      servers: {
        a: fixtureServer('a'),
        b: { ...fixtureServer('b'), timeoutMs: 700 },
        ghost: { command: '/nonexistent/mcp-server-binary' },
        slow: fixtureServer('slow', '--start-delay', '1500'),
      },
    });
    c = await startCoordinator(file);
  });
  after(async () => {
    await c.close();
    dir.remove();
  });

  test('a call to a server still starting waits for it instead of failing', async () => {
    const started = Date.now();
    const r = (await c.client.callTool({
      name: 'slow__echo',
      arguments: { text: 'patient' },
    })) as CallToolResult;
    assert.equal(text(r), 'patient');
    assert.ok(Date.now() - started < 30_000);
  });

  test('the missing command is reported and the rest is served', async () => {
    const { tools } = await c.client.listTools();
    assert.ok(tools.some((t) => t.name === 'a__echo'));
    assert.ok(tools.some((t) => t.name === 'b__echo'));
    assert.ok(!tools.some((t) => t.name.startsWith('ghost__')));
    await waitFor(
      () => /ghost/.test(c.stderr()) && /nonexistent/.test(c.stderr()),
      10_000,
      'a log line naming ghost',
    );
  });

  test('a crash mid-call fails that call clearly; later calls succeed after the restart', async () => {
    await assert.rejects(c.client.callTool({ name: 'a__crash', arguments: {} }), (e: unknown) => {
      assert.ok(e instanceof McpError);
      assert.equal(e.code, ErrorCode.ConnectionClosed);
      assert.match(e.message, /\ba\b/);
      return true;
    });
    const r = (await c.client.callTool({ name: 'a__echo', arguments: { text: 'back' } })) as CallToolResult;
    assert.equal(text(r), 'back');
    assert.equal(
      ((await c.client.callTool({ name: 'b__echo', arguments: { text: 'b ok' } })) as CallToolResult).isError,
      undefined,
    );
  });

  test('a hanging server times out by its own timeoutMs and keeps serving', async () => {
    const started = Date.now();
    await assert.rejects(c.client.callTool({ name: 'b__hang', arguments: {} }), (e: unknown) => {
      assert.ok(e instanceof McpError);
      assert.equal(e.code, ErrorCode.RequestTimeout);
      assert.match(e.message, /\bb\b/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'bounded by timeoutMs, not the SDK default of 60 s');
    const r = (await c.client.callTool({
      name: 'b__echo',
      arguments: { text: 'still here' },
    })) as CallToolResult;
    assert.equal(text(r), 'still here');
  });

  test('an isError result is passed through as a result, not an error', async () => {
    const r = (await c.client.callTool({
      name: 'a__fail',
      arguments: { message: 'nope' },
    })) as CallToolResult;
    assert.equal(r.isError, true);
    assert.equal(text(r), 'nope');
  });
});

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

describe('stdout is the protocol; stdin closing ends everything', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('malformed JSON-RPC is survived and every byte on stdout parses as JSON-RPC', async () => {
    const file = writeConfig(dir.path, { servers: { a: fixtureServer('a') } }, 'raw.yml');
    const raw = rawCoordinator(file);
    raw.send('this is not json');
    raw.send('{"jsonrpc":"2.0","id":"x","method":');
    raw.send(INIT);
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await waitFor(() => raw.stdout().includes('"id":1'), 10_000, 'the initialize response');
    await waitFor(() => /\[a\] a ready/.test(raw.stderr()), 10_000, 'the downstream to start');
    raw.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'a__echo', arguments: { text: 'hi' } },
    });
    raw.send({ jsonrpc: '2.0', id: 3, method: 'no/such/method' });
    await waitFor(() => raw.stdout().includes('"id":3'), 10_000, 'the answer to id 3');
    await waitFor(() => raw.stdout().includes('"id":2'), 10_000, 'the answer to id 2');
    raw.child.stdin.end();
    const [code] = await once(raw.child, 'exit');
    assert.equal(code, 0);
    const lines = raw
      .stdout()
      .split('\n')
      .filter((l) => l.length > 0);
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      const msg = JSON.parse(line) as { jsonrpc: string };
      assert.equal(msg.jsonrpc, '2.0');
    }
    const byId = (id: number) => lines.map((l) => JSON.parse(l)).find((m) => m.id === id);
    assert.equal(byId(2).result.content[0].text, 'hi');
    assert.equal(byId(3).error.code, ErrorCode.MethodNotFound);
  });

  for (const how of ['stdin close', 'SIGTERM', 'SIGINT'] as const) {
    test(`on ${how} every child and its process group is gone within 5 s`, async () => {
      const file = writeConfig(
        dir.path,
        { servers: { g: fixtureServer('g', '--spawn-grandchild'), h: fixtureServer('h') } },
        `orphans-${how.replace(' ', '-')}.yml`,
      );
      const raw = rawCoordinator(file);
      raw.send(INIT);
      raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const grandchild = Number(
        (await waitFor(() => /\[g\] grandchild (\d+)/.exec(raw.stderr()), 10_000, 'the grandchild pid'))[1],
      );
      await waitFor(() => /\[h\] h ready/.test(raw.stderr()), 10_000, 'h to start');
      raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'g__whoami', arguments: {} } });
      await waitFor(() => raw.stdout().includes('"id":2'), 10_000, 'whoami');
      const childPid = Number(/"pid":(\d+)/.exec(raw.stdout())![1]);
      assert.ok(alive(childPid) && alive(grandchild));

      const started = Date.now();
      if (how === 'stdin close') raw.child.stdin.end();
      else raw.child.kill(how);
      await once(raw.child, 'exit');
      await waitFor(() => !alive(childPid) && !alive(grandchild), 5_000, 'children gone');
      assert.ok(Date.now() - started < 5_000);
    });
  }

  test('warm start (default cache beside the config): on SIGTERM every child and its group is gone', async () => {
    const sub = join(dir.path, 'warm');
    mkdirSync(sub);
    // YAML text: no cacheDir, so the default .coordinator-cache beside the file is used.
    const yaml = (servers: Record<string, unknown>) =>
      `servers:\n${Object.entries(servers)
        .map(([id, s]) => `  ${id}: ${JSON.stringify(s)}\n`)
        .join('')}`;
    const file = writeConfig(sub, yaml({ g: fixtureServer('g', '--spawn-grandchild') }));
    await warmUp(file, 'g__whoami', 15_000);
    assert.ok(
      existsSync(join(sub, '.coordinator-cache', 'catalog-cache.json')),
      'the first run left a catalog',
    );

    const raw = rawCoordinator(file);
    raw.send(INIT);
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await waitFor(() => raw.stdout().includes('"id":2'), 10_000, 'tools/list');
    assert.match(raw.stdout(), /g__whoami/, 'listed from the warm catalog');
    // Nothing is called: the server must still start (deferred), with its grandchild.
    const grandchild = Number(
      (await waitFor(() => /\[g\] grandchild (\d+)/.exec(raw.stderr()), 10_000, 'the grandchild pid'))[1],
    );
    raw.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'g__whoami', arguments: {} } });
    await waitFor(() => raw.stdout().includes('"id":3'), 10_000, 'whoami');
    const childPid = Number(/"pid":(\d+)/.exec(raw.stdout())![1]);
    assert.ok(alive(childPid) && alive(grandchild));
    const started = Date.now();
    raw.child.kill('SIGTERM');
    await once(raw.child, 'exit');
    await waitFor(() => !alive(childPid) && !alive(grandchild), 5_000, 'children gone');
    assert.ok(Date.now() - started < 5_000);
  });
});
