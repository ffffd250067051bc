/**
 * `serve --http`: the built coordinator over real HTTP on loopback, clients of both eras at once
 * (v2 SDK modern and legacy, v1 SDK) sharing one downstream pool, the REST API on the same
 * operations, and every refusal a bad request deserves.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { alive, fixtureServer, modernServer, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, v1Client, v2Client, type HttpCoordinator } from '../helpers/http.js';

const text = (result: unknown) =>
  ((result as CallToolResult).content[0] as { type: 'text'; text: string } | undefined)?.text;

type Health = { servers: Record<string, { status: string }> };

describe('serve --http: one core for clients of both eras', () => {
  const dir = tempDir();
  let c: HttpCoordinator;
  /** A slow-loris client started first, judged last: the other tests run meanwhile. */
  let slowLoris: Promise<{ closedAfterMs: number }>;
  before(async () => {
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old', '--introspect'), neo: modernServer('neo') },
      http: {
        maxSessions: 3,
        sessionIdleMs: 1_500,
        maxBodyBytes: 65_536,
        allowedOrigins: ['http://app.example:3000'],
      },
    });
    c = await startHttp(file);
    await waitFor(
      async () => {
        const r = await api(c.url, '/status');
        const servers = (r.json as Health).servers ?? {};
        return servers.old?.status === 'healthy' && servers.neo?.status === 'healthy';
      },
      20_000,
      'both servers healthy',
    );
    slowLoris = new Promise((resolve, reject) => {
      const u = new URL(c.url);
      const started = Date.now();
      const socket = connect(Number(u.port), u.hostname, () => {
        socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${u.port}\r\n`);
      });
      // One header line a second: never done, always busy.
      const drip = setInterval(() => socket.write(`X-Drip-${Date.now()}: 1\r\n`), 1_000);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ closedAfterMs: Date.now() - started });
      });
      setTimeout(() => {
        clearInterval(drip);
        socket.destroy();
        reject(new Error('the slow-loris connection was never closed by the server'));
      }, 40_000).unref();
    });
  });
  after(async () => {
    await c.stop();
    dir.remove();
  });

  test('modern, v2-legacy and v1 clients call the same downstreams at once, each its own agent', async () => {
    const modern = await v2Client(c.url, { era: 'modern', name: 'modern-ide' });
    const legacy = await v2Client(c.url, { era: 'legacy', name: 'legacy-ide' });
    const v1 = await v1Client(c.url, {}, 'v1-ide');
    try {
      const results = await Promise.all([
        modern.callTool({ name: 'old__echo', arguments: { text: 'm' } }),
        legacy.callTool({ name: 'neo__echo', arguments: { text: 'l' } }),
        v1.callTool({ name: 'old__echo', arguments: { text: 'v' } }),
      ]);
      assert.deepEqual(results.map(text), ['m', 'l', 'v']);
      // Locks are per agent: the legacy client's lock is refused to the v1 client.
      const lock = await legacy.callTool({
        name: 'coordinator__lock_file',
        arguments: { file: 'shared.txt' },
      });
      assert.notEqual(lock.isError, true, text(lock));
      const refused = await v1.callTool({
        name: 'coordinator__lock_file',
        arguments: { file: 'shared.txt' },
      });
      assert.equal(refused.isError, true);
      const holder = (refused.structuredContent as { holder: string }).holder;
      assert.match(holder, /^legacy-ide@/);
      const locks = await api(c.url, '/api/locks');
      assert.equal(locks.status, 200);
      assert.equal((locks.json.locks as Array<{ holder: string }>)[0]?.holder, holder);
      await legacy.callTool({ name: 'coordinator__unlock_file', arguments: { file: 'shared.txt' } });
    } finally {
      await Promise.all([modern.close(), legacy.close(), v1.close()]);
    }
  });

  test('a modern listen stream gets list changes and the updates of the resources it names', async () => {
    const client = await v2Client(c.url, { era: 'modern' });
    try {
      const lists: unknown[] = [];
      const updates: string[] = [];
      client.setNotificationHandler('notifications/tools/list_changed', (n) => void lists.push(n.params));
      client.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void updates.push(n.params.uri),
      );
      const subscription = await client.listen({
        toolsListChanged: true,
        resourceSubscriptions: ['memo://neo/note'],
      });
      await client.callTool({ name: 'neo__add_tool', arguments: { name: 'late' } });
      await waitFor(() => lists.length >= 1, 10_000, 'list_changed on the listen stream');
      // The coordinator subscribes downstream for as long as the stream is open.
      await waitFor(
        async () => {
          await client.callTool({ name: 'neo__touch', arguments: {} });
          return updates.includes('memo://neo/note');
        },
        10_000,
        'the resource update on the listen stream',
      );
      await subscription.close();
    } finally {
      await client.close();
    }
  });

  test('listen streams opened and dropped leave no session behind', async () => {
    const baseline = (await api(c.url, '/status')).json.sessions as number;
    const client = await v2Client(c.url, { era: 'modern' });
    try {
      for (let i = 0; i < 20; i++) {
        const subscription = await client.listen({ toolsListChanged: true });
        await subscription.close();
      }
      await waitFor(
        async () => ((await api(c.url, '/status')).json.sessions as number) <= baseline,
        10_000,
        `sessions back to ${baseline}`,
      );
    } finally {
      await client.close();
    }
  });

  test("REST: health, status, servers, tools, a routed call and the fan-out share the tools' operations", async () => {
    const health = await api(c.url, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    assert.deepEqual((health.json.targets as string[]).sort(), ['neo', 'old']);
    assert.match(String(health.json.version), /^\d+\.\d+\.\d+/);

    const status = await api(c.url, '/status');
    assert.equal(status.json.overall, 'healthy');
    for (const key of ['activeAgents', 'lockedFiles', 'activeTasks'])
      assert.equal(typeof status.json[key], 'number', key);

    const servers = await api(c.url, '/api/servers');
    assert.deepEqual((servers.json.servers as Array<{ serverId: string }>).map((s) => s.serverId).sort(), [
      'neo',
      'old',
    ]);
    const one = await api(c.url, '/api/servers/neo');
    assert.equal(one.json.era, 'modern');
    assert.equal(one.json.transport, 'stdio');
    const neoTools = await api(c.url, '/api/servers/neo/tools');
    assert.ok((neoTools.json.tools as Array<{ name: string }>).some((t) => t.name === 'neo__echo'));
    assert.equal((await api(c.url, '/api/servers/nope')).status, 404);

    const search = await api(c.url, '/api/tools?q=ECHO');
    const names = (search.json.tools as Array<{ name: string }>).map((t) => t.name).sort();
    assert.deepEqual(names, ['neo__echo', 'old__echo']);
    const schema = await api(c.url, '/api/tools/old__echo');
    assert.equal((schema.json.inputSchema as { type: string }).type, 'object');
    assert.equal((await api(c.url, '/api/tools/none__such')).status, 404);

    const routed = await api(c.url, '/route', {
      body: { tool: 'old__echo', arguments: { text: 'hi' }, target: 'old' },
    });
    assert.equal(routed.status, 200);
    assert.equal(text(routed.json.data), 'hi');
    assert.deepEqual(
      {
        target: (routed.json.routing as { target: string }).target,
        reason: (routed.json.routing as { reason: string }).reason,
      },
      { target: 'old', reason: 'explicit target old' },
    );
    const called = await api(c.url, '/api/tools/neo__echo/call', { body: { arguments: { text: 'yo' } } });
    assert.equal(text(called.json.data), 'yo');

    const fanned = await api(c.url, '/aggregate', { body: { tool: 'echo', arguments: { text: 'all' } } });
    assert.deepEqual(Object.keys(fanned.json.results as object).sort(), ['neo', 'old']);
    assert.equal((fanned.json.aggregation as { mode: string }).mode, 'parallel');

    const tasks = await api(c.url, '/api/tasks?status=claimed');
    assert.equal(tasks.status, 200);
    assert.ok(Array.isArray(tasks.json.tasks));
    const agents = await api(c.url, '/api/agents');
    assert.ok(Array.isArray(agents.json.agents));
    const set = await api(c.url, '/route', {
      body: { tool: 'coordinator__set_state', arguments: { key: 'release', value: { v: 2 } } },
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const state = await api(c.url, '/api/state/release');
    assert.deepEqual(state.json.value, { v: 2 });
    assert.equal((await api(c.url, '/api/state/nothing-here')).status, 404);
    const open = await api(c.url, '/api/tasks?status=open');
    assert.equal(open.status, 200);
  });

  test('bad REST input: a clear JSON error with a fitting status', async () => {
    const cases: Array<[string, Parameters<typeof api>[2], number, string]> = [
      ['/route', { body: '{"tool": ' }, 400, 'bad_json'],
      ['/route', { body: { tool: 'old__echo', extra: 1 } }, 400, 'bad_request'],
      ['/route', { body: { tool: 'nobody__here' } }, 404, 'unknown_tool'],
      ['/route', { body: { tool: 'old__echo', target: 'nope' } }, 400, 'bad_request'],
      ['/no/such/route', {}, 404, 'not_found'],
      ['/health', { method: 'DELETE' }, 405, 'method_not_allowed'],
      ['/route', { body: { tool: 'x'.repeat(70_000) } }, 413, 'body_too_large'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await api(c.url, path, init);
      assert.equal(r.status, status, `${path} ${JSON.stringify(r.json)}`);
      assert.equal((r.json.error as { code: string }).code, code, path);
      assert.equal(typeof (r.json.error as { message: string }).message, 'string');
    }
    // An oversized MCP message is refused before it is read whole.
    const big = await fetch(`${c.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { pad: 'x'.repeat(100_000) },
      }),
    });
    assert.equal(big.status, 413);
    // A 50 MB body is refused from its Content-Length, before a byte of it is read.
    const declared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(`${c.url}/mcp`);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: '/mcp',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"jsonrpc":"2.0",');
    });
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body).error.code, 'body_too_large');
    // The coordinator is unharmed.
    assert.equal((await api(c.url, '/health')).status, 200);
  });

  test('DNS rebinding and cross-site requests: a foreign Host or Origin is refused', async () => {
    const raw = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const u = new URL(`${c.url}/health`);
        const req = httpRequest({ host: u.hostname, port: u.port, path: '/health', headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const port = new URL(c.url).port;
    const rebinding = await raw({ host: `evil.example:${port}` });
    assert.equal(rebinding.status, 403);
    assert.equal(JSON.parse(rebinding.body).error.code, 'host_not_allowed');
    const crossSite = await raw({ host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
    assert.equal(crossSite.status, 403);
    assert.equal(JSON.parse(crossSite.body).error.code, 'origin_not_allowed');
    assert.equal((await raw({ host: `localhost:${port}`, origin: `http://localhost:${port}` })).status, 200);

    // http.allowedOrigins: a preflight is answered (before credentials), and the answers are readable.
    const preflight = await fetch(`${c.url}/api/tools`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example:3000', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example:3000');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /mcp-session-id/);
    const read = await fetch(`${c.url}/api/tools`, { headers: { origin: 'http://app.example:3000' } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), 'http://app.example:3000');
    assert.match(read.headers.get('access-control-expose-headers') ?? '', /mcp-session-id/);

    // A request target that names a host is refused, whatever Host says.
    const absolute = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '//evil.example/api/tools' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(absolute, 400);
  });

  test('legacy sessions: capped in number, expired when idle, unknown ids answered 404', async () => {
    const initialize = (n: number) =>
      fetch(`${c.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: n,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: `raw-${n}`, version: '1' },
          },
        }),
      });
    // Sessions of the earlier tests may still be open (a v1 client does not end its session):
    // open until the cap (http.maxSessions = 3) refuses one.
    const opened: string[] = [];
    let over: Response | undefined;
    for (let i = 0; i < 4 && !over; i++) {
      const r = await initialize(i);
      if (r.status === 503) over = r;
      else {
        assert.equal(r.status, 200);
        opened.push(r.headers.get('mcp-session-id')!);
        await r.body?.cancel();
      }
    }
    assert.ok(over, 'the fourth session at the latest is refused');
    assert.ok(opened.length >= 1 && opened.length <= 3);
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    assert.match(JSON.stringify(await over.json()), /http\.maxSessions/);

    const ping = (sid: string) =>
      fetch(`${c.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
    assert.equal((await ping('not-a-session')).status, 404);
    // Idle for longer than http.sessionIdleMs (1.5 s): gone, and room for new ones again.
    const live = await ping(opened[0]!);
    assert.equal(live.status, 200);
    await live.body?.cancel();
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await ping(opened[0]!)).status, 404, 'the session idle for 2 s expired');
    const again = await initialize(10);
    assert.equal(again.status, 200);
    await again.body?.cancel();
  });

  test('a slow-loris client is cut off after the header timeout; everyone else was served meanwhile', async () => {
    const { closedAfterMs } = await slowLoris;
    // headersTimeout is 10 s, checked every second.
    assert.ok(closedAfterMs >= 9_000 && closedAfterMs < 30_000, `closed after ${closedAfterMs} ms`);
    assert.equal((await api(c.url, '/health')).status, 200);
  });

  test('metrics, logs and the live event stream of the built CLI', async () => {
    await api(c.url, '/route', { body: { tool: 'old__echo', arguments: { text: 'counted' } } });
    const metrics = await fetch(`${c.url}/metrics`);
    assert.equal(metrics.status, 200);
    const exposition = await metrics.text();
    assert.match(
      exposition,
      /mcp_coordinator_tool_calls_total\{server="old",tool="old__echo",outcome="ok"\} [1-9]/,
    );
    assert.match(exposition, /mcp_coordinator_http_requests_total\{route="\/route",status="200"\} [1-9]/);
    assert.match(exposition, /mcp_coordinator_downstream_up\{server="neo"\} 1/);
    assert.match(exposition, /process_cpu_user_seconds_total/);

    const logs = await api(c.url, '/api/logs?source=server:old');
    assert.ok((logs.json.lines as Array<{ source: string }>).length > 0, 'the fixture stderr is in the ring');
    const sources = await api(c.url, '/api/logs/sources');
    assert.ok((sources.json.sources as Array<{ source: string }>).some((x) => x.source === 'server:neo'));

    // Live: a lock taken now arrives on the stream; a reconnect with Last-Event-ID replays after it.
    const abort = new AbortController();
    const stream = await fetch(`${c.url}/api/events/stream?type=file:*`, { signal: abort.signal });
    assert.equal(stream.headers.get('content-type')?.startsWith('text/event-stream'), true);
    const reader = stream.body!.getReader();
    let seen = '';
    const lock = (file: string) =>
      api(c.url, '/route', { body: { tool: 'coordinator__lock_file', arguments: { file } } });
    await lock('streamed-1.txt');
    await waitFor(
      async () => {
        const { value } = await reader.read();
        seen += new TextDecoder().decode(value);
        return seen.includes('streamed-1.txt');
      },
      10_000,
      'the lock event on the stream',
    );
    abort.abort();
    const lastId = [...seen.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!).at(-1)!;
    await lock('streamed-2.txt');
    const resumed = new AbortController();
    const again = await fetch(`${c.url}/api/events/stream?type=file:*`, {
      headers: { 'last-event-id': lastId },
      signal: resumed.signal,
    });
    const r2 = again.body!.getReader();
    let replayed = '';
    await waitFor(
      async () => {
        const { value } = await r2.read();
        replayed += new TextDecoder().decode(value);
        return replayed.includes('streamed-2.txt');
      },
      10_000,
      'the replay after Last-Event-ID',
    );
    resumed.abort();
    assert.ok(!replayed.includes('streamed-1.txt'), 'nothing before Last-Event-ID is sent again');
    for (const file of ['streamed-1.txt', 'streamed-2.txt']) {
      await api(c.url, '/route', { body: { tool: 'coordinator__unlock_file', arguments: { file } } });
    }
  });

  test('/api/openapi.json is valid OpenAPI 3.1 and describes every route', async () => {
    const doc = await api(c.url, '/api/openapi.json');
    assert.equal(doc.status, 200);
    const verdict = await new Validator().validate(doc.json as Parameters<Validator['validate']>[0]);
    assert.equal(verdict.valid, true, JSON.stringify(verdict.errors));
    assert.equal(doc.json.openapi, '3.1.0');
    const paths = doc.json.paths as Record<string, Record<string, { requestBody?: unknown }>>;
    for (const path of [
      '/health',
      '/status',
      '/route',
      '/aggregate',
      '/api/servers/{id}/restart',
      '/api/tools/{name}/call',
    ]) {
      assert.ok(paths[path], path);
    }
    assert.ok(paths['/route']!.post!.requestBody, 'the /route body is described');
  });
});

describe('serve --http: shutdown and refusals at start', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('SIGTERM lets the call in flight finish, then ends every stream and child', async () => {
    const file = writeConfig(dir.path, { servers: { old: fixtureServer('old') } }, 'grace.yml');
    const c = await startHttp(file);
    const client = await v2Client(c.url, { era: 'legacy' });
    let childPid = 0;
    try {
      await waitFor(async () => (await api(c.url, '/health')).json.status === 'ok', 20_000, 'old healthy');
      const who = await client.callTool({ name: 'old__whoami', arguments: {} });
      childPid = (who.structuredContent as { pid: number }).pid;
      assert.ok(alive(childPid));
      const slow = client.callTool({ name: 'old__sleep', arguments: { ms: 1_500 } });
      const slowRest = api(c.url, '/route', { body: { tool: 'old__sleep', arguments: { ms: 1_500 } } });
      await waitFor(
        () => (c.stderr().match(/sleep started/g) ?? []).length >= 2,
        10_000,
        'both calls running downstream',
      );
      const code = c.stop();
      const result = await slow;
      assert.notEqual(result.isError, true);
      assert.equal((await slowRest).status, 200, 'a REST call in flight finishes too');
      assert.equal(await code, 0);
    } finally {
      await client.close().catch(() => {});
    }
    await waitFor(() => !alive(childPid), 5_000, 'the downstream gone with the coordinator');
  });
});
