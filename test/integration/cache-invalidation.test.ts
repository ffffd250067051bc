/**
 * Two coordinator processes (built CLIs, `serve`), one real redis-server: shared state written
 * through one is read through the other, and `invalidate_cache` through one makes the other drop
 * its cached results of the matching tools — and only those.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import {
  fixtureServer,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const sc = <T>(r: unknown) => (r as CallToolResult).structuredContent as T;
type CacheStats = { hits: number; misses: number; entries: number };

describe('shared state and cache invalidation across coordinators', () => {
  const dir = tempDir();
  let redis: RedisServer;
  let a: StartedCoordinator;
  let b: StartedCoordinator;

  before(async () => {
    redis = await startRedis();
    const coordination = { redis: redis.url, prefix: 'cache-it:', workspaceRoot: dir.path };
    // Both coordinators run their own copy of server `s`, caching echo and whoami.
    const server = { ...fixtureServer('s'), cache: { ttlMs: 600_000, tools: ['echo', 'whoami'] } };
    const config = writeConfig(dir.path, { servers: { s: server }, coordination });
    [a, b] = await Promise.all([
      startCoordinator(config, { env: { MCP_AGENT_ID: 'agent-a' } }),
      startCoordinator(config, { env: { MCP_AGENT_ID: 'agent-b' } }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
    dir.remove();
  });

  const call = (c: StartedCoordinator, name: string, args: Record<string, unknown> = {}) =>
    c.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
  const stats = async (c: StartedCoordinator) =>
    sc<{ resultCache: CacheStats }>(await call(c, 'coordinator__health')).resultCache;

  test('a value set through one coordinator is read, with its expiry, through the other', async () => {
    const set = sc<{ expiresAt: string }>(
      await call(a, 'coordinator__set_state', {
        key: 'release/next',
        value: { version: '1.2.0' },
        ttlMs: 600_000,
      }),
    );
    assert.deepEqual(sc(await call(b, 'coordinator__get_state', { key: 'release/next' })), {
      key: 'release/next',
      found: true,
      value: { version: '1.2.0' },
      expiresAt: set.expiresAt,
    });
    assert.equal(
      sc<{ deleted: boolean }>(await call(b, 'coordinator__delete_state', { key: 'release/next' })).deleted,
      true,
    );
    assert.equal(
      sc<{ found: boolean }>(await call(a, 'coordinator__get_state', { key: 'release/next' })).found,
      false,
    );
    const tooBig = await call(a, 'coordinator__set_state', { key: 'big', value: 'x'.repeat(70_000) }).then(
      (r) => r,
      (e: unknown) => e as Error,
    );
    assert.match(
      tooBig instanceof Error ? tooBig.message : JSON.stringify(tooBig),
      /value: \d+ bytes of JSON/,
    );
  });

  test('invalidate_cache through one coordinator empties the matching entries of the other', async () => {
    for (const c of [a, b]) {
      await waitFor(
        async () => (await c.client.listTools()).tools.some((t) => t.name === 's__echo'),
        20_000,
        's ready',
      );
      const first = await call(c, 's__echo', { text: 'hello' });
      await call(c, 's__whoami');
      assert.deepEqual((await call(c, 's__echo', { text: 'hello' })).content, first.content);
      assert.deepEqual(await stats(c), { hits: 1, misses: 2, entries: 2 });
    }
    const invalidated = sc<{ droppedHere: number }>(
      await call(a, 'coordinator__invalidate_cache', { pattern: 's__ech?', reason: 'fixture changed' }),
    );
    assert.equal(invalidated.droppedHere, 1);
    assert.equal((await stats(a)).entries, 1, 'dropped here before the call returned');
    // The other coordinator drops its echo entry when the event reaches it; whoami stays cached.
    await waitFor(async () => (await stats(b)).entries === 1, 10_000, 'b to drop its echo result');
    await call(b, 's__whoami');
    await call(b, 's__echo', { text: 'hello' });
    assert.deepEqual(await stats(b), { hits: 2, misses: 3, entries: 2 }, 'whoami was a hit, echo a miss');

    const bad = await call(b, 'coordinator__invalidate_cache', { pattern: 's__[echo]' }).then(
      (r) => JSON.stringify(r),
      (e: unknown) => String(e),
    );
    assert.match(bad, /pattern: .* is not a valid glob/);
  });
});
