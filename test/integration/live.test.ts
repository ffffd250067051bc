/**
 * A warm catalog across restarts, lazy servers, live edits of servers.yml, and the opt-in
 * result cache — through the built coordinator.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  fixtureServer,
  lists,
  startCoordinator,
  tempDir,
  waitFor,
  warmUp,
  writeConfig,
} from '../helpers/coordinator.js';

const sc = <T>(r: unknown) => (r as CallToolResult).structuredContent as T;
type Health = {
  servers: Record<string, { status: string }>;
  config: { error: string | null };
  resultCache: { hits: number; misses: number };
};

describe('warm catalog and lazy servers', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('a restarted coordinator lists a slow server at once from the cached catalog', async () => {
    const file = writeConfig(dir.path, {
      servers: { slow: fixtureServer('slow', '--start-delay', '4000') },
      cacheDir: join(dir.path, 'cache'),
    });
    await warmUp(file, 'slow__echo');

    const second = await startCoordinator(file);
    try {
      const { tools } = await second.client.listTools();
      assert.ok(
        tools.some((t) => t.name === 'slow__echo'),
        'listed before the server is up',
      );
      const health = sc<Health>(await second.client.callTool({ name: 'coordinator__health', arguments: {} }));
      assert.notEqual(health.servers.slow?.status, 'healthy', 'the server itself is still starting');
      const r = (await second.client.callTool({
        name: 'slow__echo',
        arguments: { text: 'warm' },
      })) as CallToolResult;
      assert.equal((r.content[0] as { text: string }).text, 'warm');
    } finally {
      await second.close();
    }
  });

  test('with a warm catalog, eager servers still start by themselves, without any call', async () => {
    const file = writeConfig(
      dir.path,
      { servers: { e: fixtureServer('e') }, cacheDir: join(dir.path, 'eager-cache') },
      'eager.yml',
    );
    await warmUp(file, 'e__whoami');

    const second = await startCoordinator(file);
    try {
      assert.ok(await lists(second.client, 'e__whoami'), 'from the cache');
      // Only builtins are called: the server must come up on its own (deferred start, not on demand).
      await waitFor(
        async () =>
          sc<Health>(await second.client.callTool({ name: 'coordinator__health', arguments: {} })).servers.e
            ?.status === 'healthy',
        15_000,
        'e healthy',
      );
    } finally {
      await second.close();
    }
  });

  test('with a warm catalog, a server the cache does not hold starts at once and a call for it waits', async () => {
    const cacheDir = join(dir.path, 'partial-cache');
    await warmUp(
      writeConfig(dir.path, { servers: { a: fixtureServer('a') }, cacheDir }, 'partial.yml'),
      'a__whoami',
    );

    // The cache is warm but knows only a. Each extra server alone, so nothing else is starting
    // that a call could wait for by accident: an eager one, then a lazy one never seen before.
    const extras: Array<[string, Record<string, unknown>]> = [
      ['b', fixtureServer('b', '--start-delay', '1000')],
      ['c', { ...fixtureServer('c', '--start-delay', '500'), startup: 'lazy' }],
    ];
    for (const [id, server] of extras) {
      const file = writeConfig(
        dir.path,
        { servers: { a: fixtureServer('a'), [id]: server }, cacheDir },
        'partial.yml',
      );
      const c = await startCoordinator(file);
      try {
        const r = await c.client.callTool({ name: `${id}__whoami`, arguments: {} });
        assert.equal(
          sc<{ name: string }>(r).name,
          id,
          `the call waited for ${id} instead of naming it unknown`,
        );
      } finally {
        await c.close();
      }
    }
  });

  test('a stale cached entry is refreshed and list_changed is sent when the real catalog differs', async () => {
    const file = writeConfig(
      dir.path,
      { servers: { s: fixtureServer('s') }, cacheDir: join(dir.path, 'stale-cache') },
      'stale.yml',
    );
    const first = await startCoordinator(file);
    await waitFor(() => lists(first.client, 's__echo'), 20_000);
    // A tool added at run time is cached with the rest; a fresh server will not have it.
    await first.client.callTool({ name: 's__add_tool', arguments: { name: 'ephemeral' } });
    await waitFor(() => lists(first.client, 's__ephemeral'), 10_000);
    await first.close();

    let listChanged = 0;
    const second = await startCoordinator(file, {
      setup: (client) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      assert.ok(await lists(second.client, 's__ephemeral'), 'served from cache');
      await waitFor(
        async () => !(await lists(second.client, 's__ephemeral')),
        20_000,
        'the stale tool to go',
      );
      assert.ok(listChanged >= 1);
    } finally {
      await second.close();
    }
  });

  test('a lazy server with a known catalog is spawned only on first use', async () => {
    const cacheDir = join(dir.path, 'lazy-cache');
    const file = writeConfig(
      dir.path,
      { servers: { idle: { ...fixtureServer('idle'), startup: 'lazy' } }, cacheDir },
      'lazy.yml',
    );
    // Without a cached catalog the lazy server is started once to learn its tools.
    await warmUp(file, 'idle__whoami');

    const c = await startCoordinator(file);
    try {
      assert.ok(await lists(c.client, 'idle__whoami'));
      const servers = sc<{ servers: Array<{ serverId: string; status: string }> }>(
        await c.client.callTool({ name: 'coordinator__servers', arguments: {} }),
      );
      assert.equal(servers.servers.find((s) => s.serverId === 'idle')?.status, 'idle');
      const r = await c.client.callTool({ name: 'idle__whoami', arguments: {} });
      assert.equal(sc<{ name: string }>(r).name, 'idle');
    } finally {
      await c.close();
    }
  });
});

describe('live config', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('adding, changing, removing a server applies without a restart; an invalid edit keeps the running config', async () => {
    const config = (servers: Record<string, unknown>) => ({ servers, cacheDir: '' });
    const file = writeConfig(dir.path, config({ a: fixtureServer('a') }));
    let listChanged = 0;
    const c = await startCoordinator(file, {
      setup: (client) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++),
    });
    try {
      await waitFor(() => lists(c.client, 'a__whoami'), 15_000);
      const whoami = async (name: string) =>
        sc<{ name: string; pid: number }>(await c.client.callTool({ name, arguments: {} }));
      const before = listChanged;

      writeFileSync(file, JSON.stringify(config({ a: fixtureServer('a'), b: fixtureServer('b') })));
      await waitFor(() => lists(c.client, 'b__whoami'), 15_000, 'b added');
      assert.ok(listChanged > before, 'list_changed announced');
      const aPid = (await whoami('a__whoami')).pid;
      const bPid = (await whoami('b__whoami')).pid;

      // Change only a: a restarts with its new args, b keeps running.
      writeFileSync(file, JSON.stringify(config({ a: fixtureServer('a2'), b: fixtureServer('b') })));
      await waitFor(
        async () => (await whoami('a__whoami').catch(() => ({ name: '' }))).name === 'a2',
        15_000,
        'a changed',
      );
      assert.notEqual((await whoami('a__whoami')).pid, aPid);
      assert.equal((await whoami('b__whoami')).pid, bPid);

      writeFileSync(file, JSON.stringify(config({ a: fixtureServer('a2') })));
      await waitFor(
        async () => !(await c.client.listTools()).tools.some((t) => t.name.startsWith('b__')),
        15_000,
        'b removed',
      );

      writeFileSync(file, 'servers:\n  a:\n    comand: node\n');
      const broken = await waitFor(
        async () => {
          const h = sc<Health>(await c.client.callTool({ name: 'coordinator__health', arguments: {} }));
          return h.config.error ? h : undefined;
        },
        15_000,
        'the config error in health',
      );
      assert.match(broken.config.error!, /servers\.yml:2: servers\.a: .*"comand"/);
      assert.equal((await whoami('a__whoami')).name, 'a2', 'the running config is kept');
      await waitFor(() => /config not applied/.test(c.stderr()), 5_000, 'the error on stderr');

      writeFileSync(file, JSON.stringify(config({ a: fixtureServer('a2') })));
      await waitFor(
        async () => {
          const h = sc<Health>(await c.client.callTool({ name: 'coordinator__health', arguments: {} }));
          return h.config.error === null;
        },
        15_000,
        'the error cleared',
      );
    } finally {
      await c.close();
    }
  });
});

describe('opt-in result cache', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('hits and misses are counted; an isError result is never cached; other tools are never cached', async () => {
    const file = writeConfig(dir.path, {
      servers: { s: { ...fixtureServer('s'), cache: { ttlMs: 60_000, tools: ['echo', 'fail'] } } },
      cacheDir: '',
    });
    const c = await startCoordinator(file);
    try {
      const call = (name: string, args: Record<string, unknown>) =>
        c.client.callTool({ name: `s__${name}`, arguments: args }) as Promise<CallToolResult>;
      const stats = async () =>
        sc<Health>(await c.client.callTool({ name: 'coordinator__health', arguments: {} })).resultCache;
      const first = await call('echo', { text: 'x' });
      const second = await call('echo', { text: 'x' });
      assert.deepEqual(second.content, first.content);
      assert.deepEqual(await stats(), { hits: 1, misses: 1, entries: 1 });
      await call('echo', { text: 'other' });
      assert.equal((await stats()).misses, 2);

      assert.equal((await call('fail', { message: 'no' })).isError, true);
      assert.equal((await call('fail', { message: 'no' })).isError, true);
      const after = await stats();
      assert.equal(after.hits, 1, 'isError results are not served from the cache');
      assert.equal(after.misses, 4);

      await call('whoami', {});
      assert.equal((await stats()).misses, 4, 'a tool not listed is not looked up');
    } finally {
      await c.close();
    }
  });
});
