import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { Clock } from '../../../src/shared/clock.js';
import type { DownstreamSnapshot } from '../../../src/downstream/types.js';
import { TransportFailureError } from '../../../src/shared/errors.js';
import { isAlive, statusLog, stdio, waitFor, withPool } from './helpers.js';

const FIXTURE_TOOLS = ['echo', 'sleep', 'whoami', 'fail', 'crash', 'hang', 'add_tool', 'progress'];

function isTransportFailure(reason: TransportFailureError['reason'], pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof TransportFailureError, `not a TransportFailureError: ${String(error)}`);
    assert.equal(error.reason, reason);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('SupervisedDownstream over stdio', () => {
  it('connects, drains the catalog and reports connected, forwarding stderr with the id', async () => {
    await withPool([['alpha', stdio(['--name', 'alpha', '--version', '2.3.4'])]], async (pool, recorded) => {
      const catalogs: Array<[string, DownstreamSnapshot]> = [];
      pool.on('catalog', (id, snapshot) => catalogs.push([id, snapshot]));
      const alpha = pool.get('alpha');
      assert.ok(alpha);
      assert.equal(alpha.status, 'idle');
      assert.equal(alpha.transport, 'stdio');
      pool.startAll();
      const client = await alpha.whenReady(10_000);
      assert.equal(alpha.status, 'connected');
      assert.deepEqual(alpha.snapshot?.serverInfo, { name: 'alpha', version: '2.3.4' });
      assert.deepEqual(
        alpha.snapshot?.tools.map((t) => t.name),
        FIXTURE_TOOLS,
      );
      assert.deepEqual(alpha.snapshot?.prompts, []);
      assert.deepEqual(alpha.snapshot?.resources, []);
      assert.ok(alpha.snapshot?.capabilities.tools);
      assert.deepEqual(
        catalogs.map(([id, s]) => [id, s.tools.length]),
        [['alpha', 8]],
      );
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(echoed.content, [{ type: 'text', text: 'hi' }]);
      assert.ok((await alpha.ping(2_000)) >= 0);
      await waitFor(() => recorded.stderr.some((s) => s.id === 'alpha' && s.line === 'alpha ready'), 5_000);
      assert.equal(alpha.restarts, 0);
      assert.equal(alpha.lastError, undefined);
    });
  });

  it('follows nextCursor to the end of every declared list', async () => {
    const args = ['--page-size', '3', '--tools', '10', '--prompts', '7', '--resources', '5'];
    await withPool([['paged', stdio(args)]], async (pool) => {
      const paged = pool.get('paged')!;
      pool.startAll();
      await paged.whenReady(10_000);
      const snapshot = paged.snapshot!;
      assert.equal(snapshot.tools.length, 18);
      assert.equal(new Set(snapshot.tools.map((t) => t.name)).size, 18);
      assert.deepEqual(
        snapshot.prompts.map((p) => p.name),
        Array.from({ length: 7 }, (_, i) => `prompt_${i}`),
      );
      assert.deepEqual(
        snapshot.resources.map((r) => r.uri),
        Array.from({ length: 5 }, (_, i) => `fixture://fixture/res_${i}`),
      );
      assert.deepEqual(
        snapshot.resourceTemplates.map((t) => t.uriTemplate),
        ['fixture://fixture/item/{id}'],
      );
    });
  });

  it('fails fast on a missing command, then restarts and falls into crash-loop without hanging', async () => {
    const config = stdio([], { command: 'no-such-mcp-server-xyz', args: [] });
    await withPool([['ghost', config]], async (pool) => {
      const ghost = pool.get('ghost')!;
      const log = statusLog(ghost);
      pool.startAll();
      const started = Date.now();
      await assert.rejects(
        ghost.whenReady(30_000),
        isTransportFailure('spawn', /ghost.*"no-such-mcp-server-xyz" not found/),
      );
      assert.ok(Date.now() - started < 2_000, `whenReady took ${Date.now() - started} ms`);
      await waitFor(() => ghost.status === 'crash-loop', 5_000, 'crash-loop');
      assert.deepEqual(log.slice(0, 3), ['starting', 'restarting', 'starting']);
      assert.match(ghost.lastError ?? '', /no-such-mcp-server-xyz/);
      assert.equal(ghost.restarts, 2); // 3 attempts (maxFailures) = 2 restarts
      await assert.rejects(ghost.whenReady(30_000), isTransportFailure('spawn', /no-such-mcp-server-xyz/));
    });
  });

  it('restarts a server that crashes mid-call; the pending call gets ConnectionClosed', async () => {
    await withPool([['crashy', stdio([])]], async (pool) => {
      const crashy = pool.get('crashy')!;
      pool.startAll();
      const client = await crashy.whenReady(10_000);
      const log = statusLog(crashy);
      await assert.rejects(client.callTool({ name: 'crash' }), (error: unknown) => {
        assert.ok(error instanceof SdkError);
        assert.equal(error.code, SdkErrorCode.ConnectionClosed);
        return true;
      });
      const next = await crashy.whenReady(10_000);
      assert.notEqual(next, client);
      assert.deepEqual(log, ['restarting', 'starting', 'connected']);
      assert.equal(crashy.restarts, 1);
      assert.match(crashy.lastError ?? '', /crashy: process exited with code 3/);
      const echoed = await next.callTool({ name: 'echo', arguments: { text: 'again' } });
      assert.deepEqual(echoed.content, [{ type: 'text', text: 'again' }]);
      assert.equal(crashy.snapshot?.tools.length, 8, 'snapshot kept across the restart');
    });
  });

  it('enters crash-loop after repeated fast exits; whenReady then rejects at once', async () => {
    await withPool([['flaky', stdio(['--exit-after', '50'])]], async (pool) => {
      const flaky = pool.get('flaky')!;
      pool.startAll();
      await waitFor(() => flaky.status === 'crash-loop', 15_000, 'crash-loop');
      const started = Date.now();
      await assert.rejects(
        flaky.whenReady(30_000),
        isTransportFailure('unavailable', /flaky.*crash-loop.*last error/),
      );
      assert.ok(Date.now() - started < 100, 'whenReady must not wait in crash-loop');
      assert.ok(flaky.restarts >= 2);
      assert.match(flaky.lastError ?? '', /exited with code 4|Connection closed/);
    });
  });

  it('progress read in the same chunk as its result still reaches the caller, in order', async () => {
    await withPool([['steps', stdio([])]], async (pool) => {
      pool.startAll();
      const client = await pool.get('steps')!.whenReady(10_000);
      for (let round = 0; round < 10; round++) {
        const seen: number[] = [];
        const result = await client.callTool(
          { name: 'progress', arguments: { steps: 5 } },
          { onprogress: (p) => void seen.push(p.progress) },
        );
        assert.deepEqual(result.content, [{ type: 'text', text: 'done 5' }]);
        assert.deepEqual(seen, [1, 2, 3, 4, 5], `round ${round}`);
      }
    });
  });

  it('a hanging call times out while the connection stays usable', async () => {
    await withPool([['hangs', stdio([])]], async (pool) => {
      const hangs = pool.get('hangs')!;
      pool.startAll();
      const client = await hangs.whenReady(10_000);
      await assert.rejects(client.callTool({ name: 'hang' }, { timeout: 200 }), (error: unknown) => {
        assert.ok(error instanceof SdkError);
        assert.equal(error.code, SdkErrorCode.RequestTimeout);
        return true;
      });
      assert.equal(hangs.status, 'connected');
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
      assert.deepEqual(echoed.content, [{ type: 'text', text: 'still here' }]);
    });
  });

  it('an initialize that never answers fails the attempt after connectTimeoutMs', async () => {
    await withPool([['mute', stdio(['--start-delay', '60000'], { connectTimeoutMs: 300 })]], async (pool) => {
      const mute = pool.get('mute')!;
      pool.startAll();
      await waitFor(() => mute.lastError !== undefined, 5_000, 'first failure');
      assert.match(mute.lastError ?? '', /^mute: no answer to initialize or a list request within 300 ms$/);
      assert.notEqual(mute.status, 'connected');
    });
  });

  it('starts a lazy server on the first whenReady only', async () => {
    await withPool([['lazy', stdio([], { startup: 'lazy' })]], async (pool) => {
      const lazy = pool.get('lazy')!;
      pool.startAll();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(lazy.status, 'idle');
      const client = await lazy.whenReady(10_000);
      assert.equal(lazy.status, 'connected');
      assert.ok(client);
    });
  });

  it('whenReady waits for a slow starter, and times out naming it when the budget is too small', async () => {
    await withPool([['slow', stdio(['--start-delay', '1500'])]], async (pool) => {
      const slow = pool.get('slow')!;
      pool.startAll();
      await assert.rejects(
        slow.whenReady(100),
        isTransportFailure('timeout', /slow not ready after 100 ms \(status starting/),
      );
      const client = await slow.whenReady(10_000);
      assert.equal(slow.status, 'connected');
      assert.ok(client);
    });
  });

  it('stop() ends the child and its grandchild within 5 s and is final', async () => {
    await withPool([['tree', stdio(['--spawn-grandchild'])]], async (pool, recorded) => {
      const tree = pool.get('tree')!;
      pool.startAll();
      const client = await tree.whenReady(10_000);
      const { structuredContent } = await client.callTool({ name: 'whoami' });
      const pid = (structuredContent as { pid: number }).pid;
      await waitFor(() => recorded.stderr.some((s) => s.line.startsWith('grandchild ')), 5_000);
      const grandchild = Number(
        recorded.stderr.find((s) => s.line.startsWith('grandchild '))!.line.split(' ')[1],
      );
      assert.ok(isAlive(pid) && isAlive(grandchild));
      const started = Date.now();
      await tree.stop();
      assert.ok(Date.now() - started < 5_000);
      assert.equal(isAlive(pid), false, 'child survived stop()');
      assert.equal(isAlive(grandchild), false, 'grandchild survived stop()');
      assert.equal(tree.status, 'stopped');
      await assert.rejects(tree.whenReady(1_000), isTransportFailure('unavailable', /tree is stopped/));
      tree.start();
      assert.equal(tree.status, 'stopped');
    });
  });

  it('re-drains on list_changed and emits the new catalog', async () => {
    await withPool([['growing', stdio([])]], async (pool) => {
      const growing = pool.get('growing')!;
      pool.startAll();
      const client = await growing.whenReady(10_000);
      const next = new Promise<DownstreamSnapshot>((resolve) => growing.on('catalog', resolve));
      await client.callTool({ name: 'add_tool', arguments: { name: 'brand_new' } });
      const snapshot = await next;
      assert.ok(snapshot.tools.some((t) => t.name === 'brand_new'));
      assert.equal(growing.snapshot, snapshot);
    });
  });

  it('forwards server→client requests and other notifications to the hooks, tagged with the id', async () => {
    await withPool([['asker', stdio(['--introspect'])]], async (pool, recorded) => {
      const asker = pool.get('asker')!;
      pool.startAll();
      const client = await asker.whenReady(10_000);
      const roots = await client.callTool({ name: 'roots' });
      assert.equal(roots.isError, undefined);
      assert.deepEqual(roots.structuredContent, { roots: [] });
      assert.deepEqual(
        recorded.requests.map(({ id, request }) => [id, request.method]),
        [['asker', 'roots/list']],
      );
      await client.callTool({ name: 'log', arguments: { text: 'hello' } });
      await waitFor(() => recorded.notifications.length > 0, 2_000, 'notification');
      const [{ id, notification }] = recorded.notifications as [(typeof recorded.notifications)[0]];
      assert.equal(id, 'asker');
      assert.equal(notification.method, 'notifications/message');
      assert.deepEqual(notification.params, { level: 'info', data: 'hello' });
    });
  });

  it('declares a fixed set of client capabilities; a downstream request reaches the hooks with its server id', async () => {
    await withPool([['asker', stdio(['--introspect'])]], async (pool, recorded) => {
      pool.startAll();
      const client = await pool.get('asker')!.whenReady(10_000);
      const roots = await client.callTool({ name: 'roots' });
      assert.notEqual(roots.isError, true);
      assert.equal(recorded.requests.length, 1);
      assert.equal(recorded.requests[0]!.id, 'asker');
      assert.equal(recorded.requests[0]!.request.method, 'roots/list');
    });
  });

  it('measures whenReady deadlines on the injected clock', async () => {
    const clock = new ManualClock();
    await withPool(
      [['clocked', stdio(['--start-delay', '60000'])]],
      async (pool) => {
        const clocked = pool.get('clocked')!;
        pool.startAll();
        const waiting = clocked.whenReady(5_000);
        clock.advance(4_999);
        assert.equal(clocked.status, 'starting');
        clock.advance(1);
        await assert.rejects(waiting, isTransportFailure('timeout', /clocked not ready after 5000 ms/));
      },
      { clock },
    );
  });
});

/** Time that moves only when told to. */
class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void }> = [];
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fn();
  }
}
