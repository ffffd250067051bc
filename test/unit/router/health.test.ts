import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HealthMonitor,
  type HealthMonitorOptions,
  type HealthStatus,
  overallHealth,
} from '../../../src/router/health.js';
import { FakeDownstream, FakePool, ManualClock, settle } from './fakes.js';

const INTERVAL = 1_000;
const TIMEOUT = 200;
// Not a multiple of the interval, so a probe never coincides with a regular ping.
const COOLDOWN = 4_250;

type Transition = [id: string, from: HealthStatus, to: HealthStatus];

function monitor(pool: FakePool, extra: Partial<HealthMonitorOptions> = {}) {
  const clock = new ManualClock();
  const transitions: Transition[] = [];
  const details: string[] = [];
  const health = new HealthMonitor({
    pool,
    intervalMs: INTERVAL,
    timeoutMs: TIMEOUT,
    failureThreshold: 3,
    cooldownMs: COOLDOWN,
    clock,
    onTransition: (id, from, to, detail) => {
      transitions.push([id, from, to]);
      details.push(detail);
    },
    ...extra,
  });
  return { clock, health, transitions, details };
}

const failing = () => Promise.reject(new Error('MCP error -32001: Request timed out'));

describe('HealthMonitor: pings and the circuit breaker', () => {
  it('pings every connected server at start and on each interval, in parallel', async () => {
    const pool = new FakePool(
      new FakeDownstream('a'),
      new FakeDownstream('b'),
      new FakeDownstream('c', 'idle'),
    );
    const { clock, health } = monitor(pool);
    health.start();
    await settle();
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => pool.fake(id).pings),
      [1, 1, 0],
    );
    await clock.advance(INTERVAL * 2);
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => pool.fake(id).pings),
      [3, 3, 0],
    );
    assert.equal(health.server('a')?.status, 'healthy');
    assert.equal(health.server('a')?.latencyMs, 5);
    health.stop();
    assert.equal(clock.pending(), 0, 'stop() leaves no timer behind');
  });

  it('degrades on a failed ping, opens after the threshold, probes once after the cooldown', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    const a = pool.fake('a');
    const { clock, health, transitions, details } = monitor(pool);
    health.start();
    await settle();
    a.answer = failing;

    await clock.advance(INTERVAL);
    assert.equal(health.server('a')?.status, 'degraded');
    assert.equal(health.server('a')?.consecutiveFailures, 1);
    assert.equal(health.server('a')?.lastError, 'Request timed out');
    assert.equal(health.isAvailable('a'), true, 'degraded is still routed to');

    await clock.advance(INTERVAL * 2);
    assert.equal(health.server('a')?.status, 'down');
    assert.equal(health.server('a')?.breaker, 'open');
    assert.equal(health.isAvailable('a'), false, 'the router skips an open breaker');
    assert.deepEqual(transitions, [
      ['a', 'healthy', 'degraded'],
      ['a', 'degraded', 'down'],
    ]);
    assert.match(details[1]!, /circuit open after 3 consecutive failures/);

    const pingsWhenOpened = a.pings;
    await clock.advance(COOLDOWN - 1);
    assert.equal(a.pings, pingsWhenOpened, 'no ping while open');
    await clock.advance(1);
    assert.equal(a.pings, pingsWhenOpened + 1, 'one probe once the cooldown is over');
    assert.equal(health.server('a')?.breaker, 'open', 'failed probe: open again');
    assert.equal(health.isAvailable('a'), false);

    a.answer = async () => 7;
    await clock.advance(COOLDOWN);
    assert.equal(a.pings, pingsWhenOpened + 2);
    assert.equal(health.server('a')?.breaker, 'closed');
    assert.equal(health.server('a')?.status, 'healthy');
    assert.equal(health.server('a')?.latencyMs, 7);
    assert.equal(health.isAvailable('a'), true);
    assert.deepEqual(transitions.at(-1), ['a', 'down', 'healthy']);
    assert.equal(transitions.length, 3, 'the failed probe announced nothing new');
    health.stop();
  });

  it('a half-open breaker keeps the server out of routing until its probe answers', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    const a = pool.fake('a');
    const { clock, health } = monitor(pool, { failureThreshold: 1 });
    a.answer = failing;
    health.start();
    await settle();
    assert.equal(health.server('a')?.breaker, 'open');
    let answer: (ms: number) => void = () => {};
    a.answer = () => new Promise((resolve) => (answer = resolve));
    await clock.advance(COOLDOWN);
    assert.equal(health.server('a')?.breaker, 'half-open');
    assert.equal(health.isAvailable('a'), false);
    assert.equal(health.server('a')?.status, 'down');
    answer(3);
    await settle();
    assert.equal(health.server('a')?.breaker, 'closed');
    assert.equal(health.isAvailable('a'), true);
    health.stop();
  });

  it('a ping that never answers fails at timeoutMs and is never doubled', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    const a = pool.fake('a');
    a.answer = () => new Promise(() => {});
    const { clock, health } = monitor(pool);
    health.start();
    await clock.advance(TIMEOUT - 1);
    assert.equal(health.server('a')?.status, 'healthy', 'not failed before its time');
    await clock.advance(1);
    assert.equal(health.server('a')?.status, 'degraded');
    assert.match(health.server('a')?.lastError ?? '', /no answer to ping within 200 ms/);
    await clock.advance(INTERVAL * 5);
    assert.equal(a.pings, 1, 'still in flight: no second ping');
    health.stop();
  });

  it('a ping slower than timeoutMs marks the server degraded', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    pool.fake('a').answer = async () => TIMEOUT + 50;
    const { health, transitions } = monitor(pool);
    health.start();
    await settle();
    assert.equal(health.server('a')?.status, 'degraded');
    assert.equal(health.server('a')?.latencyMs, TIMEOUT + 50);
    assert.equal(health.server('a')?.consecutiveFailures, 0, 'slow is not a breaker failure');
    assert.deepEqual(transitions, [['a', 'healthy', 'degraded']]);
    health.stop();
  });
});

describe('HealthMonitor: pool status events', () => {
  it('a dead process is down at once, without waiting for a tick, and healthy when back', async () => {
    const pool = new FakePool(new FakeDownstream('a'), new FakeDownstream('b'));
    const { health, transitions, details } = monitor(pool);
    health.start();
    await settle();
    pool.setStatus('a', 'restarting', 'a: process exited (code null, signal SIGKILL)');
    assert.equal(health.server('a')?.status, 'down');
    assert.equal(health.isAvailable('a'), false);
    assert.equal(health.server('a')?.latencyMs, null);
    assert.equal(health.server('a')?.lastError, 'a: process exited (code null, signal SIGKILL)');
    assert.deepEqual(transitions, [['a', 'healthy', 'down']]);
    assert.match(details[0]!, /restarting: a: process exited/);

    pool.setStatus('a', 'starting');
    assert.equal(health.server('a')?.status, 'down', 'starting again after a failure is still down');
    pool.setStatus('a', 'connected');
    assert.equal(health.server('a')?.status, 'healthy');
    assert.equal(health.isAvailable('a'), true);
    assert.deepEqual(transitions.at(-1), ['a', 'down', 'healthy']);
    health.stop();
  });

  it('a fresh connection closes an open breaker', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    pool.fake('a').answer = failing;
    const { health } = monitor(pool, { failureThreshold: 1 });
    health.start();
    await settle();
    assert.equal(health.server('a')?.breaker, 'open');
    pool.setStatus('a', 'restarting', 'a: connection closed');
    pool.setStatus('a', 'starting');
    pool.setStatus('a', 'connected');
    assert.equal(health.server('a')?.breaker, 'closed');
    assert.equal(health.isAvailable('a'), true);
    health.stop();
  });

  it('crash-loop and stopped are down; a server removed from the pool leaves the report', async () => {
    const pool = new FakePool(new FakeDownstream('a'), new FakeDownstream('b'));
    const { health } = monitor(pool);
    health.start();
    await settle();
    pool.setStatus('a', 'crash-loop', 'a: spawn node ENOENT');
    assert.equal(health.server('a')?.status, 'down');
    assert.equal(health.isAvailable('a'), false);
    pool.remove('b');
    assert.deepEqual(Object.keys(health.report().servers), ['a']);
    assert.equal(health.isAvailable('b'), false);
    health.stop();
  });

  it('a lazy server is pending, a first-starting one starting: no event when it first comes up', async () => {
    const pool = new FakePool(new FakeDownstream('lazy', 'idle'), new FakeDownstream('boot', 'starting'));
    const { health, transitions } = monitor(pool);
    health.start();
    await settle();
    assert.equal(health.server('lazy')?.status, 'pending');
    assert.equal(health.server('boot')?.status, 'starting');
    assert.equal(typeof health.server('boot')?.startingForMs, 'number');
    assert.equal(health.report().overall, 'starting');
    assert.equal(health.isAvailable('lazy'), true, 'a lazy server must be routable to start it');
    assert.equal(health.isAvailable('boot'), true);
    pool.setStatus('boot', 'connected');
    assert.equal(health.server('boot')?.status, 'healthy');
    assert.deepEqual(transitions, []);
    pool.setStatus('lazy', 'starting');
    pool.setStatus('lazy', 'restarting', 'lazy: spawn nope ENOENT');
    assert.deepEqual(transitions, [['lazy', 'starting', 'down']], 'failing to come up is announced');
    health.stop();
  });
});

describe('HealthMonitor: a server stuck starting', () => {
  it('is reported starting with how long, and makes overall starting, until it connects', async () => {
    const pool = new FakePool(new FakeDownstream('ok'), new FakeDownstream('stuck', 'starting'));
    const { health, clock } = monitor(pool);
    health.start();
    await settle();
    await clock.advance(45_000);
    const report = health.report();
    assert.equal(report.overall, 'starting');
    assert.equal(report.servers['stuck']?.status, 'starting');
    assert.equal(report.servers['stuck']?.startingForMs, 45_000);
    assert.equal('startingForMs' in report.servers['ok']!, false);
    pool.setStatus('stuck', 'connected');
    assert.equal(health.report().overall, 'healthy');
    health.stop();
  });
});

describe('HealthMonitor: report()', () => {
  it('has the contract shape', async () => {
    const pool = new FakePool(new FakeDownstream('a'), new FakeDownstream('b', 'restarting'));
    pool.fake('b').restarts = 2;
    pool.fake('b').lastError = 'b: connection closed';
    pool.fake('b').snapshot = undefined;
    pool.fake('b').era = 'modern';
    pool.fake('b').eraNote = 'b: said modern, failed as modern; served as legacy';
    const { health } = monitor(pool, { redis: () => 'connected' });
    health.start();
    await settle();
    assert.deepEqual(health.report(), {
      overall: 'degraded',
      servers: {
        a: {
          status: 'healthy',
          transport: 'stdio',
          era: 'legacy',
          tools: 2,
          restarts: 0,
          lastError: null,
          latencyMs: 5,
        },
        b: {
          status: 'down',
          transport: 'stdio',
          era: 'modern',
          eraNote: 'b: said modern, failed as modern; served as legacy',
          tools: 0,
          restarts: 2,
          lastError: 'b: connection closed',
          latencyMs: null,
        },
      },
      dependencies: { redis: 'connected', postgres: 'disabled' },
    });
    health.stop();
  });

  it('an era note passes the same redaction as lastError', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    pool.fake('a').eraNote = 'a: http://user:hunter2@host/mcp answered as 2026-07-28, then failed';
    const { health } = monitor(pool);
    const note = health.report().servers.a!.eraNote ?? '';
    assert.doesNotMatch(note, /hunter2/);
    assert.match(note, /answered as 2026-07-28/);
  });

  it('answers a one-shot check without start()', async () => {
    const pool = new FakePool(new FakeDownstream('a'));
    const { health, clock } = monitor(pool);
    await health.checkNow();
    assert.equal(health.report().servers['a']?.latencyMs, 5);
    assert.equal(health.report().dependencies.redis, 'disabled');
    assert.equal(clock.pending(), 0, 'no timers without start()');
  });

  it('overall: all healthy, some, none, no servers, pending ignored, Redis down', async () => {
    assert.equal(overallHealth(['healthy', 'healthy']), 'healthy');
    assert.equal(overallHealth(['healthy', 'degraded']), 'degraded');
    assert.equal(overallHealth(['healthy', 'down']), 'degraded');
    assert.equal(overallHealth(['degraded', 'down']), 'unhealthy');
    assert.equal(overallHealth(['down']), 'unhealthy');
    assert.equal(overallHealth([]), 'healthy');
    assert.equal(overallHealth(['healthy', 'pending']), 'healthy');
    assert.equal(overallHealth(['down', 'pending']), 'unhealthy');
    assert.equal(overallHealth(['healthy', 'starting']), 'starting');
    assert.equal(overallHealth(['starting']), 'starting');
    assert.equal(overallHealth(['healthy', 'down', 'starting']), 'degraded');
    assert.equal(overallHealth(['down', 'starting']), 'unhealthy');
    assert.equal(overallHealth(['starting'], 'disconnected'), 'degraded');
    assert.equal(overallHealth(['healthy'], 'disconnected'), 'degraded');
    assert.equal(overallHealth(['down'], 'disconnected'), 'unhealthy');
    assert.equal(overallHealth(['healthy'], 'connected'), 'healthy');
    // PostgreSQL down: nothing is refused, but the durable record is only a backlog.
    assert.equal(overallHealth(['healthy'], 'connected', 'disconnected'), 'degraded');
    assert.equal(overallHealth(['healthy'], 'disabled', 'connected'), 'healthy');
    assert.equal(overallHealth(['down'], 'connected', 'disconnected'), 'unhealthy');

    const empty = monitor(new FakePool());
    assert.deepEqual(empty.health.report(), {
      overall: 'healthy',
      servers: {},
      dependencies: { redis: 'disabled', postgres: 'disabled' },
    });
  });
});
