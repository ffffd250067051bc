/**
 * Groups of replicas, routing order, failover on a killed replica, aggregate, health — against
 * real fixture servers spawned (and killed) by the coordinator.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  fixtureServer,
  MAIN,
  ROOT,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { freePort } from '../helpers/redis-server.js';

const HTTP_FIXTURE = join(ROOT, 'test/fixtures/http-server.mjs');

type Routing = { target: string; reason: string; attempts: Array<{ target: string; error: string }> };
const routing = (r: unknown) => (r as CallToolResult)._meta?.['coordinator/routing'] as Routing;
const who = (r: unknown) => (r as CallToolResult).structuredContent as { name: string; pid: number };

describe('routing across replicas', () => {
  const dir = tempDir();
  let c: StartedCoordinator;

  before(async () => {
    const file = writeConfig(dir.path, {
      servers: {
        prod: { ...fixtureServer('prod'), group: 'odoo' },
        lab: { ...fixtureServer('lab'), group: 'odoo' },
        solo: fixtureServer('solo'),
      },
      routing: {
        default: 'prod',
        rules: [{ when: { context: { migration: true } }, target: 'lab', reason: 'Migrations run on lab' }],
      },
      health: { intervalMs: 500 },
    });
    c = await startCoordinator(file);
    // Every replica up (until then a group is served by the members that are ready).
    await waitFor(
      async () => {
        const { tools } = await c.client.listTools();
        const odoo = tools.find((t) => t.name === 'odoo__whoami');
        const members = odoo?._meta?.['coordinator/members'] as string[] | undefined;
        return tools.some((t) => t.name === 'solo__whoami') && members?.length === 2;
      },
      15_000,
      'all three servers',
    );
  });
  after(async () => {
    await c.close();
    dir.remove();
  });

  const whoami = (meta?: Record<string, unknown>) =>
    c.client.callTool({ name: 'odoo__whoami', arguments: {}, ...(meta && { _meta: meta }) });

  test('a group is exposed once, with its members', async () => {
    const { tools } = await c.client.listTools();
    const odoo = tools.filter((t) => t.name === 'odoo__whoami');
    assert.equal(odoo.length, 1);
    assert.deepEqual(odoo[0]!._meta?.['coordinator/members'], ['prod', 'lab']);
    assert.ok(!tools.some((t) => t.name.startsWith('prod__') || t.name.startsWith('lab__')));
  });

  test('default, context rule and explicit target, each with its reason', async () => {
    const byDefault = await whoami();
    assert.equal(who(byDefault).name, 'prod');
    assert.equal(routing(byDefault).reason, 'default');

    const byRule = await whoami({ 'coordinator/context': { migration: true } });
    assert.equal(who(byRule).name, 'lab');
    assert.deepEqual(routing(byRule), { target: 'lab', reason: 'Migrations run on lab', attempts: [] });

    const noMatch = await whoami({ 'coordinator/context': { migration: false } });
    assert.equal(who(noMatch).name, 'prod');

    const explicit = await whoami({ 'coordinator/target': 'lab' });
    assert.equal(who(explicit).name, 'lab');
    assert.equal(routing(explicit).reason, 'explicit target lab');

    const viaTool = (await c.client.callTool({
      name: 'coordinator__route',
      arguments: { tool: 'odoo__whoami', target: 'lab' },
    })) as CallToolResult;
    assert.equal(who(viaTool).name, 'lab');
  });

  test('a target that is not a member, or a context that is not an object, is InvalidParams', async () => {
    await assert.rejects(whoami({ 'coordinator/target': 'solo' }), (e: unknown) => {
      assert.ok(e instanceof McpError && e.code === ErrorCode.InvalidParams);
      assert.match(e.message, /solo.*prod, lab/);
      return true;
    });
    await assert.rejects(whoami({ 'coordinator/context': 'migration' }), (e: unknown) => {
      assert.ok(e instanceof McpError && e.code === ErrorCode.InvalidParams);
      assert.match(e.message, /must be an object/);
      return true;
    });
  });

  test('aggregate runs on every server that has the tool; a tool nobody has is a clear error', async () => {
    const r = (await c.client.callTool({
      name: 'coordinator__aggregate',
      arguments: { tool: 'whoami' },
    })) as CallToolResult;
    const out = r.structuredContent as {
      results: Record<string, CallToolResult>;
      errors: Record<string, string>;
      aggregation: { targets: string[]; mode: string; durationMs: number };
    };
    assert.deepEqual(Object.keys(out.results).sort(), ['lab', 'prod', 'solo']);
    assert.deepEqual(out.errors, {});
    assert.equal(out.aggregation.mode, 'parallel');
    assert.deepEqual(JSON.parse((r.content[0] as { text: string }).text), out);

    const some = (await c.client.callTool({
      name: 'coordinator__aggregate',
      arguments: { tool: 'whoami', targets: ['lab', 'solo'] },
    })) as CallToolResult;
    assert.deepEqual(Object.keys((some.structuredContent as { results: object }).results).sort(), [
      'lab',
      'solo',
    ]);

    await assert.rejects(
      c.client.callTool({ name: 'coordinator__aggregate', arguments: { tool: 'no_such_tool' } }),
      /no_such_tool/,
    );
  });

  test('a killed replica is skipped at once and the call is served by the next; health reports it', async () => {
    const prodPid = who(await whoami()).pid;
    process.kill(prodPid, 'SIGKILL');
    const served = await whoami();
    assert.equal(who(served).name, 'lab');
    const r = routing(served);
    assert.equal(r.target, 'lab');
    assert.equal(r.attempts[0]?.target, 'prod');

    const health = (await c.client.callTool({
      name: 'coordinator__health',
      arguments: {},
    })) as CallToolResult;
    const report = health.structuredContent as {
      overall: string;
      servers: Record<string, { status: string; restarts: number }>;
    };
    assert.ok(['degraded', 'healthy'].includes(report.overall));
    assert.equal(report.servers.lab?.status, 'healthy');
    const events = (await c.client.callTool({
      name: 'coordinator__events',
      arguments: { type: 'health:*' },
    })) as CallToolResult;
    const degraded = (
      events.structuredContent as { events: Array<{ type: string; data: { serverId: string } }> }
    ).events;
    assert.ok(
      degraded.some((e) => e.type === 'health:degraded' && e.data.serverId === 'prod'),
      'health:degraded for prod',
    );
    // prod comes back by itself (supervisor restart) and serves again.
    await waitFor(async () => who(await whoami()).name === 'prod', 15_000, 'prod back');
    assert.ok(
      ((await c.client.callTool({ name: 'coordinator__health', arguments: {} })) as CallToolResult)
        .structuredContent,
    );
  });

  test('a call that reached a replica before it died is not repeated on the next (it may have run)', async () => {
    await waitFor(async () => who(await whoami()).name === 'prod', 15_000, 'prod serving');
    const health = async () =>
      ((await c.client.callTool({ name: 'coordinator__health', arguments: {} })) as CallToolResult)
        .structuredContent as { servers: Record<string, { restarts: number }> };
    const labRestarts = (await health()).servers.lab!.restarts;
    // `crash` is neither read-only nor idempotent: prod exits while it runs.
    await assert.rejects(c.client.callTool({ name: 'odoo__crash', arguments: {} }), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, ErrorCode.InternalError);
      assert.match(error.message, /may have run on prod, so it was not retried on another server/);
      return true;
    });
    // lab never saw it: it would have crashed too.
    assert.equal((await health()).servers.lab!.restarts, labRestarts);
    assert.equal(
      who(
        await c.client.callTool({
          name: 'odoo__whoami',
          arguments: {},
          _meta: { 'coordinator/target': 'lab' },
        }),
      ).name,
      'lab',
    );
    await waitFor(async () => who(await whoami()).name === 'prod', 15_000, 'prod back');
  });
});

describe('an explicit target that is down', () => {
  const dir = tempDir();
  after(() => dir.remove());

  for (const failover of ['never', 'group'] as const) {
    test(`with routing.failover: ${failover}`, async () => {
      const port = await freePort();
      const http = spawn(process.execPath, [HTTP_FIXTURE, '--port', String(port), '--name', 'remote'], {
        stdio: 'ignore',
      });
      const file = writeConfig(
        dir.path,
        {
          servers: {
            good: { ...fixtureServer('good'), group: 'pair' },
            remote: { url: `http://127.0.0.1:${port}/mcp`, group: 'pair', timeoutMs: 1000 },
          },
          routing: { failover },
          health: { intervalMs: 300, timeoutMs: 300 },
          cacheDir: '',
        },
        `${failover}.yml`,
      );
      const c = await startCoordinator(file);
      try {
        const members = async () =>
          (await c.client.listTools()).tools.find((t) => t.name === 'pair__whoami')?._meta?.[
            'coordinator/members'
          ];
        await waitFor(
          async () => ((await members()) as string[] | undefined)?.length === 2,
          20_000,
          'both members',
        );
        http.kill('SIGKILL');
        await waitFor(
          async () => {
            const h = await c.client.callTool({ name: 'coordinator__health', arguments: {} });
            const status = (h.structuredContent as { servers: Record<string, { status: string }> }).servers
              .remote?.status;
            return status !== undefined && status !== 'healthy';
          },
          15_000,
          'remote reported down',
        );

        const call = c.client.callTool({
          name: 'pair__whoami',
          arguments: {},
          _meta: { 'coordinator/target': 'remote' },
        });
        if (failover === 'never') {
          await assert.rejects(call, (e: unknown) => e instanceof McpError && /remote/.test(e.message));
        } else {
          const r = await call;
          assert.equal(who(r).name, 'good');
          assert.equal(routing(r).attempts[0]?.target, 'remote');
        }
      } finally {
        http.kill('SIGKILL');
        await c.close();
      }
    });
  }
});

describe('routing config errors', () => {
  test('check exits 2 naming an unknown rule target', () => {
    const dir = tempDir();
    try {
      const file = writeConfig(
        dir.path,
        'servers:\n  a:\n    command: node\nrouting:\n  rules:\n    - when: { context: { x: true } }\n      target: nowhere\n',
      );
      const r = spawnSync(process.execPath, [MAIN, 'check', '--config', file], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /servers\.yml:7/);
      assert.match(r.stderr, /routing\.rules\[0\]\.target/);
      assert.match(r.stderr, /nowhere/);
      assert.equal(r.stdout, '');
    } finally {
      dir.remove();
    }
  });
});
