/**
 * Remote downstreams (Streamable HTTP, legacy SSE with headers, one that is down at start),
 * cancellation reaching a downstream, and the namespace edge cases (prefix "", clashes,
 * filters, shared resource URIs) — through the built coordinator.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  ROOT,
  fixtureServer,
  lists,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { freePort } from '../helpers/redis-server.js';

const HTTP_FIXTURE = join(ROOT, 'test/fixtures/http-server.mjs');
const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

/** Start the HTTP fixture on a given port; resolves once it listens. */
async function startHttpFixture(port: number, ...args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HTTP_FIXTURE, '--port', String(port), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => /listening/.test(err), 10_000, `http fixture on ${port}`);
  return child;
}

describe('remote downstreams and cancellation', () => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  let c: StartedCoordinator;
  let latePort: number;

  before(async () => {
    const [webPort, ssePort] = [await freePort(), await freePort()];
    latePort = await freePort();
    children.push(await startHttpFixture(webPort, '--name', 'web', '--big', '--resumable'));
    children.push(
      await startHttpFixture(ssePort, '--name', 'legacy', '--require-header', 'authorization=Bearer s3cret'),
    );
    const file = writeConfig(dir.path, {
      servers: {
        web: { url: `http://127.0.0.1:${webPort}/mcp` },
        legacy: {
          url: `http://127.0.0.1:${ssePort}/sse`,
          transport: 'sse',
          headers: { Authorization: 'Bearer ${LEGACY_TOKEN}' },
        },
        late: { url: `http://127.0.0.1:${latePort}/mcp` },
        s: fixtureServer('s'),
      },
      cacheDir: '',
    });
    c = await startCoordinator(file, { env: { LEGACY_TOKEN: 's3cret' } });
  });
  after(async () => {
    await c.close();
    for (const child of children) child.kill('SIGKILL');
    dir.remove();
  });

  test('Streamable HTTP and SSE (with headers from ${VAR}) are served beside stdio', async () => {
    await waitFor(
      async () => {
        const { tools } = await c.client.listTools();
        return ['web__echo', 'legacy__echo', 's__echo'].every((n) => tools.some((t) => t.name === n));
      },
      20_000,
      'web, legacy and s',
    );
    assert.equal(
      text(await c.client.callTool({ name: 'web__echo', arguments: { text: 'over http' } })),
      'over http',
    );
    assert.equal(
      text(await c.client.callTool({ name: 'legacy__echo', arguments: { text: 'over sse' } })),
      'over sse',
    );
  });

  test('a remote server’s over-size message fails that call at once, naming the limit; the session goes on', async () => {
    await waitFor(
      async () => (await c.client.listTools()).tools.some((t) => t.name === 'web__big'),
      20_000,
      'web__big',
    );
    // 11 MB in one SSE event of the POST's response: over the 10 MB every server message may be.
    const outcome = await c.client.callTool({ name: 'web__big', arguments: { bytes: 11_000_000 } }).then(
      (result) => `result: ${JSON.stringify(result).slice(0, 200)}`,
      (error: Error) => error.message,
    );
    assert.match(outcome, /web: a message from the server exceeds the 10 MB limit \(10485760 bytes\)/);
    assert.equal(
      text(await c.client.callTool({ name: 'web__echo', arguments: { text: 'still here' } })),
      'still here',
    );
    // The server keeps an event store (its SSE events carry ids): a stream broken by the cut would
    // be resumed, the same message fetched again every second. It is taken out instead: once.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(c.stderr().match(/web: a message from the server exceeds the 10 MB limit/g)?.length, 1);
  });

  test('an HTTP server that is down at start is picked up when it comes up', async () => {
    assert.ok(!(await lists(c.client, 'late__echo')));
    children.push(await startHttpFixture(latePort, '--name', 'late'));
    await waitFor(() => lists(c.client, 'late__echo'), 30_000, 'late');
    assert.equal(
      text(await c.client.callTool({ name: 'late__echo', arguments: { text: 'finally' } })),
      'finally',
    );
  });

  test('cancelling a call sends notifications/cancelled to the downstream', async () => {
    const controller = new AbortController();
    const pending = c.client.callTool({ name: 's__sleep', arguments: { ms: 10_000 } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('changed my mind'), 300);
    await assert.rejects(pending);
    await waitFor(
      () => /\[s\] sleep cancelled/.test(c.stderr()),
      5_000,
      'the downstream to see the cancellation',
    );
    assert.equal(text(await c.client.callTool({ name: 's__echo', arguments: { text: 'next' } })), 'next');
  });
});

describe('namespaces: prefix "", clashes, filters, shared resource URIs', () => {
  const dir = tempDir();
  let c: StartedCoordinator;

  before(async () => {
    const file = writeConfig(dir.path, {
      servers: {
        t1: { ...fixtureServer('twin', '--resources', '1'), prefix: '' },
        t2: {
          ...fixtureServer('twin', '--resources', '1'),
          prefix: '',
          tools: { include: ['echo', 'who*'], exclude: ['whoami'] },
        },
      },
      cacheDir: '',
    });
    c = await startCoordinator(file);
    await waitFor(() => lists(c.client, 't2__echo'), 20_000, 'both twins');
  });
  after(async () => {
    await c.close();
    dir.remove();
  });

  test('unprefixed names, the clash reported at load and the loser renamed, filters applied', async () => {
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('echo') && names.includes('whoami') && names.includes('sleep'), 't1 unprefixed');
    assert.ok(names.includes('t2__echo'), 'the clashing t2 echo is renamed, not dropped');
    assert.ok(!names.includes('t2__whoami') && !names.includes('t2__sleep'), 'include/exclude of t2');
    await waitFor(() => /Tool "echo" of .*t2.* clashes/.test(c.stderr()), 5_000, 'the clash on stderr');
    const r = (await c.client.callTool({
      name: 't2__echo',
      arguments: { text: 'second' },
    })) as CallToolResult;
    assert.equal(
      r._meta?.['coordinator/routing'] && (r._meta['coordinator/routing'] as { target: string }).target,
      't2',
    );
  });

  test('a URI both servers have is exposed once per server as <id>+<uri> and read from each', async () => {
    const uris = (await c.client.listResources()).resources.map((r) => r.uri).sort();
    assert.deepEqual(uris, ['t1+fixture://twin/res_0', 't2+fixture://twin/res_0']);
    for (const uri of uris) {
      const read = await c.client.readResource({ uri });
      assert.equal(read.contents[0]?.uri, uri);
      assert.match(String((read.contents[0] as { text: string }).text), /fixture:\/\/twin\/res_0/);
    }
  });
});
