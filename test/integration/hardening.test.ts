/**
 * Hardening (issue 9) through the built CLI: input limits on the coordinator's own stdin, config
 * refusals of `check`, `health` with a server stuck starting.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fixtureServer, MAIN, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';

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
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const send = (msg: unknown) =>
      child.stdin.write(`${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n`);
    const replies = () =>
      stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Reply);
    const byId = (id: unknown) => replies().find((r) => r.id === id);
    try {
      send(INIT);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await waitFor(() => byId(1), 20_000, 'the initialize response');
      await waitFor(() => /\[a\] a ready/.test(stderr), 20_000, 'the downstream to start');
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
