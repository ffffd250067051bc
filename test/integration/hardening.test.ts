/**
 * Hardening (issue 9) through the built CLI: input limits on the coordinator's own stdin, config
 * refusals of `check`, `health`, `tools` and calls with a server stuck starting, `events --follow`
 * across a lost link,
 * no orphans after a SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  alive,
  fixtureServer,
  MAIN,
  rawCoordinator,
  startCoordinator,
  startV2,
  tempDir,
  waitFor,
  writeConfig,
} from '../helpers/coordinator.js';
import { startRedis } from '../helpers/redis-server.js';
import { Redis } from 'ioredis';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

interface Reply {
  id: unknown;
  result?: { content: Array<{ text: string }> };
  error?: { code: number; message: string };
}

describe('the coordinator stdin', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('an over-size request gets -32600 naming the limit, bad JSON -32700, the session goes on, EOF ends it', async () => {
    const file = writeConfig(dir.path, { servers: { a: fixtureServer('a') } }, 'limits.yml');
    const { child, send, replies, stderr } = rawCoordinator(file);
    const byId = (id: unknown) => replies().find((r) => r.id === id) as Reply | undefined;
    try {
      send(INIT);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await waitFor(() => byId(1), 20_000, 'the initialize response');
      await waitFor(() => /\[a\] a ready/.test(stderr()), 20_000, 'the downstream to start');
      const call = (id: number, text: string) => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'a__echo', arguments: { text } },
      });
      send(call(2, 'x'.repeat(12 * 1024 * 1024)));
      send('not json at all');
      send(call(3, 'still here'));
      await waitFor(() => byId(3), 30_000, 'the answer after the over-size request');
      const big = byId(2);
      assert.equal(big?.error?.code, -32600);
      assert.match(big!.error!.message, /exceeds the 4 MB limit/);
      assert.equal(byId(3)?.result?.content[0]?.text, 'still here');
      assert.ok(
        replies().some((r) => r.id === null && r.error?.code === -32700),
        'a parse error reply for the bad line',
      );
      child.stdin.end();
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('the coordinator stdout', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('a reply a client could not read (over 10 MB) becomes an error naming the limit; the session goes on', async () => {
    const file = writeConfig(
      dir.path,
      { servers: { fx: fixtureServer('fx', '--big') }, cacheDir: '' },
      'out.yml',
    );
    const c = await startCoordinator(file);
    try {
      await waitFor(
        async () => (await c.client.listTools()).tools.some((t) => t.name === 'fx__big'),
        20_000,
        'fx__big',
      );
      // Under the 10 MB a server's line may be, over it once the coordinator's routing _meta is
      // added: the SDK client (10 MB read buffer) would close the whole session on it.
      const outcome = await c.client
        .callTool({ name: 'fx__big', arguments: { bytes: 10_485_760 - 120 } })
        .then(
          () => 'a result',
          (error: Error) => error.message,
        );
      assert.match(
        outcome,
        /-32603: Response too large: message of \d+ bytes exceeds the 10 MB limit a client reads/,
      );
      const after = (await c.client.callTool({
        name: 'fx__echo',
        arguments: { text: 'still here' },
      })) as CallToolResult;
      assert.deepEqual(after.content, [{ type: 'text', text: 'still here' }]);
    } finally {
      await c.close();
    }
  });

  test('the same for a modern (2026-07-28) client over stdio', async () => {
    const file = writeConfig(
      dir.path,
      { servers: { fx: fixtureServer('fx', '--big') }, cacheDir: '' },
      'out-modern.yml',
    );
    const c = await startV2(file);
    try {
      await waitFor(
        async () => (await c.client.listTools()).tools.some((t) => t.name === 'fx__big'),
        20_000,
        'fx__big',
      );
      const outcome = await c.client
        .callTool({ name: 'fx__big', arguments: { bytes: 10_485_760 - 120 } })
        .then(
          () => 'a result',
          (error: Error) => error.message,
        );
      assert.match(
        outcome,
        /Response too large: message of \d+ bytes exceeds the 10 MB limit a client reads/,
      );
      const after = await c.client.callTool({ name: 'fx__echo', arguments: { text: 'still here' } });
      assert.deepEqual(after.content, [{ type: 'text', text: 'still here' }]);
    } finally {
      await c.close();
    }
  });
});

describe('check', () => {
  const dir = tempDir();
  after(() => dir.remove());

  const check = (file: string, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, 'check', '--config', file], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 30_000,
    });

  test('refuses credentials in a server URL with exit 2, naming file, line and key, never echoing them', () => {
    const file = writeConfig(
      dir.path,
      'servers:\n  local: { command: node }\n  docs:\n    url: "https://ada:${DOCS_PW}@docs.example/mcp"\n',
      'creds.yml',
    );
    const run = check(file, { DOCS_PW: 'pw-from-the-env' });
    assert.equal(run.status, 2, run.stderr);
    assert.ok(run.stderr.includes(`${file}:4: servers.docs.url: must not carry credentials`), run.stderr);
    assert.doesNotMatch(run.stderr + run.stdout, /pw-from-the-env|ada:/);
  });
});

describe('health', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('reports a server stuck in initialize as starting, with how long, overall starting, exit 1, in bounded time', () => {
    const file = writeConfig(
      dir.path,
      {
        servers: {
          ok: fixtureServer('ok'),
          // Reads nothing for 10 minutes: initialize never gets an answer.
          stuck: {
            ...fixtureServer('stuck', '--start-delay', '600000'),
            protocol: 'legacy',
            connectTimeoutMs: 600_000,
          },
        },
      },
      'stuck.yml',
    );
    const started = Date.now();
    const run = spawnSync(process.execPath, [MAIN, 'health', '--json', '--config', file], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    const tookMs = Date.now() - started;
    assert.equal(run.signal, null, `health did not answer within 50 s: ${run.stderr}`);
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout) as {
      overall: string;
      servers: Record<string, { status: string; startingForMs?: number }>;
    };
    assert.equal(report.overall, 'starting');
    assert.equal(report.servers['ok']?.status, 'healthy');
    assert.equal(report.servers['stuck']?.status, 'starting');
    assert.ok(
      (report.servers['stuck']?.startingForMs ?? -1) >= 5_000,
      JSON.stringify(report.servers['stuck']),
    );
    assert.ok(tookMs < 50_000, `took ${tookMs} ms`);
  });

  test('exits 1 when a server is down', () => {
    const file = writeConfig(
      dir.path,
      { servers: { ok: fixtureServer('ok'), gone: { command: 'no-such-mcp-server-xyz' } } },
      'down.yml',
    );
    const run = spawnSync(process.execPath, [MAIN, 'health', '--json', '--config', file], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(run.status, 1, run.stderr);
    const report = JSON.parse(run.stdout) as { overall: string; servers: Record<string, { status: string }> };
    assert.equal(report.servers['gone']?.status, 'down');
    assert.equal(report.overall, 'degraded');
  });
});

describe('a server stuck in initialize', () => {
  const dir = tempDir();
  after(() => dir.remove());
  /** The stuck server's start-up budget: every answer below must come well before it. */
  const STUCK_CONNECT_MS = 20_000;
  const stuckConfig = (connectTimeoutMs = STUCK_CONNECT_MS) =>
    writeConfig(
      dir.path,
      {
        servers: {
          // Reads nothing for 10 minutes: initialize never gets an answer.
          stuck: {
            ...fixtureServer('stuck', '--start-delay', '600000'),
            protocol: 'legacy',
            connectTimeoutMs,
          },
          ok: fixtureServer('ok'),
        },
      },
      'stuck-routing.yml',
    );

  test('does not hold calls to the other servers; an unknown prefix is answered at once, naming it', async () => {
    // A budget far beyond what a loaded machine needs to start the coordinator and call `ok`: the
    // call coming in under half of it shows it did not wait for the stuck server.
    const budgetMs = 60_000;
    const started = Date.now();
    const c = await startV2(stuckConfig(budgetMs));
    try {
      const result = (await c.client.callTool({ name: 'ok__echo', arguments: { text: 'hi' } })) as {
        content: Array<{ text: string }>;
      };
      const callMs = Date.now() - started;
      assert.equal(result.content[0]?.text, 'hi');
      assert.ok(callMs < budgetMs / 2, `the call took ${callMs} ms`);

      const unknown = async (name: string) => {
        const at = Date.now();
        const error = await c.client.callTool({ name, arguments: {} }).then(
          (r) => assert.fail(`${name} answered ${JSON.stringify(r)}`),
          (e: Error) => e,
        );
        return { message: error.message, ms: Date.now() - at };
      };
      const nobody = await unknown('nope__echo');
      assert.match(nobody.message, /Unknown tool: nope__echo/);
      assert.ok(nobody.ms < 5_000, `the unknown name took ${nobody.ms} ms`);
      const typo = await unknown('ok__ecko');
      assert.match(typo.message, /Unknown tool: ok__ecko \(did you mean "ok__echo"\?\)/);
      assert.ok(typo.ms < 5_000, `the typo took ${typo.ms} ms`);
      assert.ok(Date.now() - started < budgetMs, 'all of it while stuck was still connecting');
    } finally {
      await c.close();
    }
  });

  test('tools answers in bounded time, lists the others, names the stuck server, exit 1', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, [MAIN, 'tools', '--json', '--config', stuckConfig()], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    const tookMs = Date.now() - started;
    assert.equal(run.signal, null, `tools did not answer within 50 s: ${run.stderr}`);
    assert.equal(run.status, 1, run.stderr);
    const names = (JSON.parse(run.stdout) as Array<{ name: string }>).map((t) => t.name);
    assert.ok(names.includes('ok__echo'), names.join());
    assert.match(run.stderr, /stuck is still starting/);
    assert.ok(tookMs < STUCK_CONNECT_MS, `took ${tookMs} ms`);
  });
});

/** A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and restored. */
async function cuttableProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let up = true;
  const server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('events --follow', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('prints the events published while its link was down, once, after it reconnects', async () => {
    const redis = await startRedis({ aof: true });
    const proxy = await cuttableProxy(redis.port);
    const coordination = { prefix: 'resume:', workspaceRoot: dir.path };
    const publisherFile = writeConfig(
      dir.path,
      { servers: {}, coordination: { ...coordination, redis: redis.url } },
      'publisher.yml',
    );
    const followerFile = writeConfig(
      dir.path,
      { servers: {}, coordination: { ...coordination, redis: `redis://127.0.0.1:${proxy.port}` } },
      'follower.yml',
    );
    const publisher = await startCoordinator(publisherFile, { env: { MCP_AGENT_ID: 'publisher' } });
    const follower = spawn(
      process.execPath,
      [MAIN, 'events', '--follow', '--type', 'file:*', '--config', followerFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    follower.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const printed = () =>
      stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { id: string; type: string; data: { file?: string } });
    const lock = async (file: string) => {
      const r = (await publisher.client.callTool({
        name: 'coordinator__lock_file',
        arguments: { file },
      })) as CallToolResult;
      assert.equal(r.isError, undefined, JSON.stringify(r.content));
    };
    try {
      await lock('before.ts');
      await waitFor(() => printed().some((e) => e.data.file === 'before.ts'), 20_000, 'the replayed event');
      await lock('live.ts');
      await waitFor(() => printed().some((e) => e.data.file === 'live.ts'), 20_000, 'a live event');

      // The follower loses its link; meanwhile events land in the stream (and on a channel it
      // is no longer subscribed to). Then the link comes back.
      proxy.cut();
      const during = Array.from({ length: 20 }, (_, i) => `during-${i}.ts`);
      for (const file of during) await lock(file);
      // All of them in the stream before the follower may reconnect.
      const inspect = new Redis(redis.url);
      try {
        await waitFor(
          async () => {
            const entries = (await inspect.xrange('resume:events:stream', '-', '+')) as Array<
              [string, string[]]
            >;
            return entries.some(([, fields]) => fields.join(' ').includes('during-19.ts'));
          },
          20_000,
          'the events in the stream',
        );
      } finally {
        inspect.disconnect();
      }
      assert.equal(
        during.some((file) => printed().some((e) => e.data.file === file)),
        false,
        'nothing reached the follower while its link was cut',
      );
      proxy.restore();

      await waitFor(
        () => during.every((file) => printed().some((e) => e.data.file === file)),
        30_000,
        'every event published while the link was down',
      );
      await lock('after.ts');
      await waitFor(() => printed().some((e) => e.data.file === 'after.ts'), 20_000, 'a live event after');
      const ids = printed().map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no event printed twice');
    } finally {
      follower.kill('SIGKILL');
      await publisher.close();
      await proxy.close();
      await redis.stop();
    }
  });
});

describe('children cannot outlive the coordinator', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('a child that ignores stdin EOF and SIGTERM is gone soon after the coordinator is SIGKILLed', async () => {
    // Not an MCP server at all: it says its pid and then ignores everything but SIGKILL.
    const stubborn = [
      "process.on('SIGTERM', () => {});",
      "process.stdin.on('end', () => {});",
      'process.stdin.resume();',
      "process.stderr.write('stubborn ' + process.pid + '\\n');",
      'setInterval(() => {}, 1000);',
    ].join(' ');
    const file = writeConfig(
      dir.path,
      {
        servers: {
          a: fixtureServer('a'),
          stubborn: {
            command: process.execPath,
            args: ['-e', stubborn],
            protocol: 'legacy',
            connectTimeoutMs: 600_000,
          },
        },
      },
      'orphans.yml',
    );
    const coordinator = spawn(process.execPath, [MAIN, 'serve', '--config', file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    coordinator.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    coordinator.stdin.write(`${JSON.stringify(INIT)}\n`);
    let pid = 0;
    try {
      pid = Number(
        (await waitFor(() => /\[stubborn\] stubborn (\d+)/.exec(stderr)?.[1], 20_000, 'the child'))!,
      );
      assert.ok(alive(pid));
      coordinator.kill('SIGKILL');
      await once(coordinator, 'exit');
      await waitFor(() => !alive(pid), 20_000, `the stubborn child ${pid} to be gone`);
    } finally {
      if (coordinator.exitCode === null && coordinator.signalCode === null) coordinator.kill('SIGKILL');
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
