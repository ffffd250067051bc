/**
 * The health monitor over a real pool of fixture servers: a killed stdio child must be reported
 * down from the pool's status event alone. The monitor's clock never moves here, so no ping tick
 * can be what noticed it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthMonitor, type HealthStatus } from '../../../src/router/health.js';
import { stdio, waitFor, withPool } from '../downstream/helpers.js';
import { ManualClock } from './fakes.js';

describe('HealthMonitor with real stdio servers', () => {
  it('reports a killed server down from its status event, then healthy once it is back', async () => {
    const servers: Array<[string, ReturnType<typeof stdio>]> = [
      ['victim', stdio(['--name', 'victim'])],
      ['bystander', stdio(['--name', 'bystander'])],
    ];
    await withPool(servers, async (pool) => {
      const clock = new ManualClock();
      const transitions: Array<[string, HealthStatus, HealthStatus]> = [];
      const health = new HealthMonitor({
        pool,
        intervalMs: 60_000,
        timeoutMs: 5_000,
        failureThreshold: 3,
        cooldownMs: 60_000,
        clock,
        onTransition: (id, from, to) => transitions.push([id, from, to]),
      });
      health.start();
      pool.startAll();
      const client = await pool.get('victim')!.whenReady(10_000);
      await pool.get('bystander')!.whenReady(10_000);
      assert.equal(health.report().overall, 'healthy');
      assert.deepEqual(transitions, [], 'coming up is not a recovery');

      const { structuredContent } = await client.callTool({ name: 'whoami' });
      process.kill((structuredContent as { pid: number }).pid, 'SIGKILL');
      await waitFor(() => health.server('victim')?.status === 'down', 5_000, 'victim down');
      assert.equal(health.isAvailable('victim'), false);
      assert.equal(health.isAvailable('bystander'), true);
      assert.equal(health.report().overall, 'degraded');
      assert.deepEqual(transitions[0], ['victim', 'healthy', 'down']);
      assert.ok(health.report().servers['victim']?.lastError, 'the cause is kept');

      // The supervisor restarts it; the fresh connection is enough to call it healthy again.
      await waitFor(() => health.server('victim')?.status === 'healthy', 10_000, 'victim back');
      assert.deepEqual(transitions.at(-1), ['victim', 'down', 'healthy']);
      assert.equal(health.report().overall, 'healthy');
      assert.ok(health.report().servers['victim']!.restarts >= 1);

      // A real ping on demand fills in the latency.
      await health.checkNow();
      assert.equal(typeof health.report().servers['victim']?.latencyMs, 'number');
      health.stop();
    });
  });
});
