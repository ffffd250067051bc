/**
 * `connect URL`: the BUILT CLI as an IDE's stdio entry, bridging real SDK clients of both eras to
 * a real dual-era HTTP MCP server on loopback (test/fixtures/http-modern-server.mjs), through a
 * token, extra headers, a 401, a server restart on the same port, and the client leaving.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as V2Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { MAIN, ROOT, alive, fixtureServer, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp } from '../helpers/http.js';

const SERVER = join(ROOT, 'test/fixtures/http-modern-server.mjs');
const WAIT_MS = 30_000;

interface Fixture {
  port: number;
  url: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

const running = new Set<() => Promise<unknown>>();
after(async () => {
  await Promise.allSettled([...running].map((stop) => stop()));
});

async function startServer(args: string[] = [], port = 0): Promise<Fixture> {
  const proc = spawn(process.execPath, [SERVER, '--port', String(port), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  proc.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
    running.delete(stop);
  };
  running.add(stop);
  const line = await waitFor(() => /listening (\d+)/.exec(text), WAIT_MS, 'the fixture server listening');
  const bound = Number(line[1]);
  return { port: bound, url: `http://127.0.0.1:${bound}/mcp`, proc, stderr: () => text, stop };
}

const connectArgs = (url: string, extra: string[] = []) => [MAIN, 'connect', url, ...extra];
const baseEnv = (env: Record<string, string> = {}) => {
  const { MCP_COORDINATOR_TOKEN: _drop, ...rest } = process.env as Record<string, string>;
  return { ...rest, ...env };
};

/** A v1 (legacy-era) SDK client on `connect`'s stdio. */
async function legacyClient(url: string, extra: string[] = [], env: Record<string, string> = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: connectArgs(url, extra),
    env: baseEnv(env),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'legacy-ide', version: '1.0.0' });
  const close = () => client.close().catch(() => {});
  running.add(close);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr, close };
}

/** A v2 SDK client pinned to 2026-07-28 on `connect`'s stdio. */
async function modernClient(url: string, extra: string[] = [], env: Record<string, string> = {}) {
  const transport = new V2StdioClientTransport({
    command: process.execPath,
    args: connectArgs(url, extra),
    env: baseEnv(env),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new V2Client(
    { name: 'modern-ide', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const close = () => client.close().catch(() => {});
  running.add(close);
  await client.connect(transport);
  return { client, stderr: () => stderr, close };
}

const textOf = (result: unknown) =>
  ((result as { content: Array<{ type: string; text?: string }> }).content[0]?.text ?? '') as string;

/** `connect` run to completion with no client: its exit code and output. */
async function runConnect(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [MAIN, 'connect', ...args], {
    env: baseEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

// Independent tests, each with its own server on a free port: run side by side.
describe('connect: stdio to Streamable HTTP', { concurrency: true }, () => {
  test('a legacy client calls a tool through connect (a session on the server)', async () => {
    const server = await startServer();
    const c = await legacyClient(server.url);
    try {
      assert.equal(c.client.getServerVersion()?.name, 'http-modern');
      const { tools } = await c.client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.equal(
        textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'hello' } })),
        'hello (legacy)',
      );
      assert.match(server.stderr(), /session opened /);
      // A notification from the session's server, outside any request (its standalone GET stream).
      let changes = 0;
      c.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changes++);
      // The session's standalone stream opens just after the handshake; notifications need it.
      await waitFor(() => server.stderr().includes('event stream '), WAIT_MS, 'the session event stream');
      assert.equal(textOf(await c.client.callTool({ name: 'changed', arguments: {} })), 'changed');
      await waitFor(() => changes === 1, WAIT_MS, 'list_changed on the legacy client');
    } finally {
      await c.close();
      await server.stop();
    }
  });

  test('a modern (2026-07-28) client calls a tool through connect (stateless requests)', async () => {
    const server = await startServer();
    const c = await modernClient(server.url);
    try {
      assert.equal(c.client.getProtocolEra(), 'modern');
      assert.ok(c.client.getDiscoverResult()?.supportedVersions.includes('2026-07-28'));
      const { tools } = await c.client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.equal(
        textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'hi' } })),
        'hi (modern)',
      );
      // Modern requests open no legacy session.
      assert.doesNotMatch(server.stderr(), /session opened/);
    } finally {
      await c.close();
      await server.stop();
    }
  });

  test('a modern client listens (subscriptions/listen stays open through connect), closes it, and learns when it drops', async () => {
    const server = await startServer();
    const c = await modernClient(server.url);
    try {
      let changes = 0;
      c.client.setNotificationHandler('notifications/tools/list_changed', async () => void changes++);
      const first = await c.client.listen({ toolsListChanged: true });
      assert.deepEqual(first.honoredFilter, { toolsListChanged: true });
      assert.equal(textOf(await c.client.callTool({ name: 'changed', arguments: {} })), 'changed');
      await waitFor(() => changes === 1, WAIT_MS, 'list_changed on the listen stream');
      await first.close();
      assert.equal(await first.closed, 'local');
      // A second stream; the server goes away under it: the client is told, not left waiting.
      const second = await c.client.listen({ toolsListChanged: true });
      await server.stop();
      assert.equal(await second.closed, 'remote');
    } finally {
      await c.close();
      await server.stop();
    }
  });

  /** One server that wants `Bearer s3cret`, for the two tests of credentials (stopped at the end). */
  let guarded: Promise<Fixture> | undefined;
  const guardedServer = () => (guarded ??= startServer(['--require-bearer', 's3cret']));

  test('--token and --header reach the server; $MCP_COORDINATOR_TOKEN stands in for --token', async () => {
    const server = await guardedServer();
    const legacy = await legacyClient(server.url, ['--token', 's3cret', '--header', 'X-Team: blue']);
    const modern = await modernClient(server.url, ['--header', 'X-Team:green'], {
      MCP_COORDINATOR_TOKEN: 's3cret',
    });
    try {
      const seenLegacy = JSON.parse(textOf(await legacy.client.callTool({ name: 'headers', arguments: {} })));
      assert.deepEqual(seenLegacy, { authorization: 'Bearer s3cret', 'x-team': 'blue' });
      const seenModern = JSON.parse(textOf(await modern.client.callTool({ name: 'headers', arguments: {} })));
      assert.deepEqual(seenModern, { authorization: 'Bearer s3cret', 'x-team': 'green' });
    } finally {
      await Promise.all([legacy.close(), modern.close()]);
    }
  });

  test("a 401 is the server's message on stderr and a JSON-RPC error to the client, in both eras", async () => {
    const server = await guardedServer();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: connectArgs(server.url, ['--token', 'wrong']),
      env: baseEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'legacy-ide', version: '1.0.0' });
    try {
      await assert.rejects(client.connect(transport), (error: Error & { code?: number; data?: unknown }) => {
        assert.match(error.message, /refused initialize \(HTTP 401\): a valid API key is required/);
        assert.equal(error.code, -32000);
        assert.deepEqual(error.data, { url: server.url, reason: 'auth', status: 401 });
        return true;
      });
      await waitFor(
        () => /connect: .*refused initialize \(HTTP 401\): a valid API key is required/.test(stderr),
        WAIT_MS,
        'the 401 on stderr',
      );
      assert.doesNotMatch(stderr, /wrong/, 'the token is not printed');
      // A modern request (the enveloped server/discover a 2026-07-28 client opens with) meets the
      // same answer. Written by hand: the v2 SDK's stdio client reports a failed probe only as
      // "version negotiation failed", from a probe child whose stderr it does not hand over.
      const raw = spawn(process.execPath, connectArgs(server.url), {
        env: baseEnv({ MCP_COORDINATOR_TOKEN: 'wrong' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      running.add(async () => raw.kill('SIGKILL'));
      let rawOut = '';
      let rawErr = '';
      raw.stdout.on('data', (chunk: Buffer) => (rawOut += chunk.toString()));
      raw.stderr.on('data', (chunk: Buffer) => (rawErr += chunk.toString()));
      const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
      raw.stdin.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'server/discover', params: { _meta: envelope } })}\n`,
      );
      await waitFor(() => rawOut.includes('\n'), WAIT_MS, 'the answer to server/discover');
      const answer = JSON.parse(rawOut) as {
        id: number;
        error: { code: number; message: string; data: unknown };
      };
      assert.equal(answer.id, 7);
      assert.equal(answer.error.code, -32000);
      assert.match(
        answer.error.message,
        /refused server\/discover \(HTTP 401\): a valid API key is required/,
      );
      assert.deepEqual(answer.error.data, { url: server.url, reason: 'auth', status: 401 });
      await waitFor(() => /refused server\/discover \(HTTP 401\)/.test(rawErr), WAIT_MS, 'the 401 on stderr');
      raw.stdin.end();
      assert.deepEqual(await once(raw, 'exit'), [0, null]);
    } finally {
      await client.close().catch(() => {});
    }
  });

  test('a call in flight when the server dies gets an error saying it may have run', async () => {
    const server = await startServer();
    const c = await legacyClient(server.url);
    try {
      // Settled into a value at once: the rejection may come before anything awaits it.
      const call = c.client.callTool({ name: 'sleep', arguments: { ms: 20_000 } }).then(
        () => assert.fail('the call answered although its server died'),
        (error: Error & { data?: unknown }) => error,
      );
      await waitFor(() => server.stderr().includes('sleeping'), WAIT_MS, 'the call to reach the server');
      await server.stop();
      const error = await call;
      assert.match(
        error.message,
        /tools\/call may or may not have run: the connection to .* ended before the answer came/,
      );
      assert.deepEqual(error.data, { url: server.url, reason: 'lost' });
    } finally {
      await c.close();
    }
  });

  test('stdin EOF: the session is closed on the server (DELETE) and connect exits 0; stdout is only JSON-RPC', async () => {
    const server = await startServer();
    const child = spawn(process.execPath, connectArgs(server.url), {
      env: baseEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(async () => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, 'exit');
    child.stdin.write(
      `${JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      })}\n`,
    );
    await waitFor(() => stdout.includes('\n'), WAIT_MS, 'the initialize answer');
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
    await waitFor(() => stdout.split('\n').length > 2, WAIT_MS, 'the tools/list answer');
    child.stdin.end();
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.equal(alive(child.pid!), false);
    assert.match(server.stderr(), /session closed /);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { jsonrpc: string; id: number });
    assert.deepEqual(
      lines.map((l) => [l.jsonrpc, l.id]),
      [
        ['2.0', 1],
        ['2.0', 2],
      ],
    );
    await server.stop();
  });

  test('bad usage exits 2 before connecting: not a URL, not http, a key in the query, userinfo', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['not a url'], /is not a URL/],
      [['ftp://127.0.0.1/mcp'], /needs http:\/\/ or https:\/\//],
      [['http://127.0.0.1:1/mcp?api_key=abc123'], /credential in its query \(api_key=\)/],
      [['http://127.0.0.1:1/mcp?token=abc123'], /credential in its query \(token=\)/],
      [['http://user:abc123@127.0.0.1:1/mcp'], /user:password@/],
      [['http://127.0.0.1:1/mcp', '--header', 'no-colon'], /is not NAME:VALUE/],
      [[], /connect needs URL/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const { code, stdout, stderr } = await runConnect(args);
        assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
        assert.match(stderr, message);
        assert.doesNotMatch(stderr, /abc123/, 'the secret is not echoed');
        assert.equal(stdout, '');
      }),
    );
  });
});

// These free a port and bind it again: nothing may bind a free port (port 0) meanwhile, or it
// could take that one. So both first servers are started before either test runs.
describe('connect: the server restarts on the same port', { concurrency: true }, () => {
  const firsts: Fixture[] = [];
  before(async () => {
    firsts.push(...(await Promise.all([startServer(), startServer()])));
  });

  test('the server restarts on the same port: the bridge retries, re-opens the session and the same client goes on', async () => {
    const first = firsts[0]!;
    const c = await legacyClient(first.url);
    let second: Fixture | undefined;
    try {
      assert.equal(
        textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'before' } })),
        'before (legacy)',
      );
      await first.stop();
      // The call goes out while nothing listens: refused, retried with backoff…
      const during = c.client.callTool({ name: 'echo', arguments: { text: 'after' } });
      await waitFor(
        () => c.stderr().includes(`connect: coordinator at ${first.url} unreachable, retrying…`),
        WAIT_MS,
        'the unreachable line',
      );
      // …until the server is back, knowing nothing of the old session (404): it is re-opened
      // with the client's own initialize, and the call goes through.
      second = await startServer([], first.port);
      assert.equal(textOf(await during), 'after (legacy)');
      assert.ok(c.stderr().includes(`connect: reconnected to ${first.url}`), c.stderr());
      assert.match(second.stderr(), /session opened /);
      // The same client, on the re-opened session.
      assert.equal(
        textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'again' } })),
        'again (legacy)',
      );
      assert.equal((second.stderr().match(/session opened /g) ?? []).length, 1);
    } finally {
      await c.close();
      await second?.stop();
    }
  });

  test('an idle legacy client: the bridge notices the event stream drop, re-opens the session by itself, and notifications flow again', async () => {
    const first = firsts[1]!;
    const c = await legacyClient(first.url);
    let second: Fixture | undefined;
    try {
      let changes = 0;
      c.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changes++);
      await waitFor(() => first.stderr().includes('event stream '), WAIT_MS, 'the session event stream');
      await c.client.callTool({ name: 'changed', arguments: {} });
      await waitFor(() => changes === 1, WAIT_MS, 'list_changed before the restart');
      await first.stop();
      await waitFor(() => c.stderr().includes('unreachable, retrying…'), WAIT_MS, 'the unreachable line');
      second = await startServer([], first.port);
      // No request from the client: the bridge itself finds the session gone and opens a new one.
      await waitFor(
        () => c.stderr().includes(`connect: reconnected to ${first.url}`),
        WAIT_MS,
        'the reconnected line',
      );
      await waitFor(
        () => second!.stderr().includes('event stream '),
        WAIT_MS,
        'the new session and its event stream on the new server',
      );
      // Its event stream is open again: a change reaches the client outside any answer.
      await c.client.callTool({ name: 'changed', arguments: {} });
      await waitFor(() => changes === 2, WAIT_MS, 'list_changed after the restart');
    } finally {
      await c.close();
      await second?.stop();
    }
  });
});

describe('connect: two IDE entries share one coordinator over HTTP', () => {
  test('a legacy and a modern bridge reach the same serve --http and its one set of children', async () => {
    const dir = tempDir();
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old') },
      http: { auth: { keys: [{ name: 'ide', key: 'ide-key-0123456789abcdef', agent: 'ide-agent' }] } },
    });
    const coordinator = await startHttp(file);
    try {
      const token = ['--token', 'ide-key-0123456789abcdef'];
      const legacy = await legacyClient(`${coordinator.url}/mcp`, token);
      const modern = await modernClient(`${coordinator.url}/mcp`, token);
      const pidOf = async (client: { callTool: Client['callTool'] }) =>
        ((await client.callTool({ name: 'old__whoami', arguments: {} })).structuredContent as { pid: number })
          .pid;
      const [a, b] = [await pidOf(legacy.client), await pidOf(modern.client as never)];
      assert.equal(a, b, 'one downstream process serves both bridges');
      assert.ok(alive(a));
      // The key's agent is who acts, whichever bridge it comes through.
      const lock = await legacy.client.callTool({
        name: 'coordinator__lock_file',
        arguments: { file: 'one.txt' },
      });
      assert.notEqual(lock.isError, true);
      const locks = await api(coordinator.url, '/api/locks', {
        headers: { authorization: 'Bearer ide-key-0123456789abcdef' },
      });
      assert.equal((locks.json.locks as Array<{ holder: string }>)[0]?.holder, 'ide-agent');
      await legacy.close();
      await modern.close();
      assert.equal(await coordinator.stop(), 0);
      await waitFor(() => !alive(a), WAIT_MS, 'the downstream gone with the coordinator');
    } finally {
      await coordinator.stop();
      dir.remove();
    }
  });
});
