/**
 * The real App in process with a real downstream (the fixture): calls made by a client are
 * counted in `/metrics` (served by a real node:http server), each MCP request is timed, a crash
 * shows as a restart, coordination events are counted, and the downstream's stderr and the
 * coordinator's own lines land in the log ring (`/api/logs`), redacted.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { App } from '../../src/app.js';
import { parseConfigText } from '../../src/config/load.js';
import { logsHandler, metricsHandler, type RouteHandler } from '../../src/http/observability-routes.js';
import { createLogger } from '../../src/shared/logger.js';
import { FIXTURE, tempDir, waitFor } from '../helpers/coordinator.js';

function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe('observability of the real core', () => {
  const dir = tempDir();
  let app: App;
  let client: Client;
  let server: Server;
  let base: string;
  const logger = createLogger({ level: 'info', write: () => {} });

  before(async () => {
    const configFile = `${dir.path}/servers.yml`;
    const config = parseConfigText(
      JSON.stringify({
        servers: { old: { command: process.execPath, args: [FIXTURE, '--name', 'old'] } },
        cacheDir: '',
      }),
      configFile,
      {},
    );
    // A real logger (its stderr output discarded): its lines are teed to the ring.
    app = await App.create({ config, configFile, logger });
    app.startDownstreams();
    const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
    await app.newSession('legacy').server.connect(serverEnd);
    client = new Client({ name: 'observability-test', version: '1.0.0' });
    await client.connect(clientEnd);
    await waitFor(
      async () => (await client.listTools()).tools.some((t) => t.name === 'old__echo'),
      20_000,
      'old__echo listed',
    );
    const routes: Record<string, RouteHandler> = {
      '/metrics': metricsHandler(app.metrics),
      '/api/logs': logsHandler(app.logs),
    };
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      void routes[url.pathname]!(req, res, url);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await app.close();
    dir.remove();
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  test('/metrics counts routed calls by server, tool and outcome, and times MCP requests', async () => {
    const before = await scrape();
    const opsBefore =
      sample(before, 'mcp_server_operation_duration_seconds_count', 'mcp_method_name="tools/call"') ?? 0;
    await client.callTool({ name: 'old__echo', arguments: { text: 'a' } });
    await client.callTool({ name: 'old__echo', arguments: { text: 'b' } });
    const failed = await client.callTool({ name: 'old__fail', arguments: {} });
    assert.equal(failed.isError, true);
    await assert.rejects(client.callTool({ name: 'old__no_such_tool', arguments: {} }));

    const text = await scrape();
    const calls = 'mcp_coordinator_tool_calls_total';
    assert.equal(sample(text, calls, 'server="old",tool="old__echo",outcome="ok"'), 2);
    assert.equal(sample(text, calls, 'server="old",tool="old__fail",outcome="tool_error"'), 1);
    assert.equal(sample(text, calls, 'server="none",tool="other",outcome="error"'), 1);
    assert.ok(!text.includes('old__no_such_tool'), 'an unknown name is never a label');
    assert.equal(sample(text, 'mcp_coordinator_tool_call_duration_seconds_count', 'server="old"'), 3);
    assert.equal(
      sample(text, 'mcp_server_operation_duration_seconds_count', 'mcp_method_name="tools/call"'),
      opsBefore + 4,
    );
    assert.ok(
      (sample(text, 'mcp_server_operation_duration_seconds_count', 'mcp_method_name="tools/list"') ?? 0) >= 1,
    );
    assert.equal(sample(text, 'mcp_coordinator_downstream_up', 'server="old"'), 1);
    assert.equal(sample(text, 'mcp_coordinator_locks_held'), 0);
  });

  test('locks held and events are counted', async () => {
    const file = `${dir.path}/locked.txt`;
    const locked = await client.callTool({ name: 'coordinator__lock_file', arguments: { file } });
    assert.notEqual(locked.isError, true);
    await waitFor(
      async () => sample(await scrape(), 'mcp_coordinator_events_total', 'type="file:locked"'),
      5_000,
      'file:locked counted',
    );
    assert.equal(sample(await scrape(), 'mcp_coordinator_locks_held'), 1);
    await client.callTool({ name: 'coordinator__unlock_file', arguments: { file } });
    await waitFor(
      async () => sample(await scrape(), 'mcp_coordinator_events_total', 'type="file:unlocked"'),
      5_000,
      'file:unlocked counted',
    );
    assert.equal(sample(await scrape(), 'mcp_coordinator_locks_held'), 0);
  });

  test("a downstream's stderr and the coordinator's own lines land in the ring", async () => {
    // The fixture says `old ready` on stderr once it serves.
    const lines = await waitFor(
      async () => {
        const res = await fetch(`${base}/api/logs?source=server:old`);
        const body = (await res.json()) as {
          lines: Array<{ source: string; level: string; message: string }>;
        };
        return body.lines.some((l) => l.message === 'old ready') ? body.lines : undefined;
      },
      5_000,
      'the stderr line in /api/logs',
    );
    assert.ok(lines.every((l) => l.source === 'server:old'));
    assert.equal(lines.find((l) => l.message === 'old ready')!.level, 'info');
    logger.child('probe').warn('token sent: Bearer abcdefghijklmnop');
    const own = app.logs.query({ source: 'coordinator/probe' });
    assert.deepEqual(
      own.map((l) => [l.level, l.message]),
      [['warn', 'token sent: Bearer ***']],
    );
  });

  test('a crashed downstream shows as a restart and comes back up', async () => {
    await assert.rejects(client.callTool({ name: 'old__crash', arguments: {} }));
    const text = await waitFor(
      async () => {
        const t = await scrape();
        const restarts = sample(t, 'mcp_coordinator_downstream_restarts_total', 'server="old"') ?? 0;
        return restarts >= 1 && sample(t, 'mcp_coordinator_downstream_up', 'server="old"') === 1
          ? t
          : undefined;
      },
      10_000,
      'a restart counted and old up again',
    );
    assert.equal(
      sample(text, 'mcp_coordinator_tool_calls_total', 'server="old",tool="old__crash",outcome="error"'),
      1,
    );
  });
});
