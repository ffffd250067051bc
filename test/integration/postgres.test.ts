/**
 * The durable record against the machine's real PostgreSQL (own database per run) and a real
 * redis-server: events and task changes land in PostgreSQL once across coordinators; migrations
 * are safe with two coordinators starting at once; PostgreSQL down at start and mid-run costs
 * tool calls nothing and the backlog is flushed when it is back (health shows it); a FLUSHALL on
 * Redis gets the tasks back; `events --since` reads further back than the capped stream.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { openArchive, type Archive } from '../../src/coordination/archive/index.js';
import { ArchivedBus } from '../../src/coordination/archive/bus.js';
import { createBus } from '../../src/coordination/bus/index.js';
import { createCoordination, type Coordination } from '../../src/coordination/index.js';
import type { EventBus } from '../../src/coordination/types.js';
import { silentLogger } from '../../src/shared/logger.js';
import { MAIN, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { createTestDatabase, pgProxy, type PgProxy, type TestDatabase } from '../helpers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

interface Peer {
  bus: EventBus;
  archive: Archive;
  coordination: Coordination;
  close(): Promise<void>;
}

describe('durable record in PostgreSQL', () => {
  const dir = tempDir();
  let db: TestDatabase;
  let redis: RedisServer;
  let admin: Redis;
  let proxy: PgProxy;
  const open: Peer[] = [];

  before(async () => {
    [db, redis, proxy] = await Promise.all([createTestDatabase(), startRedis(), pgProxy()]);
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
  });

  after(async () => {
    await Promise.allSettled(open.map((p) => p.close()));
    admin?.disconnect();
    await proxy?.stop();
    await redis?.stop();
    await db?.drop();
    dir.remove();
  });

  /** A coordinator's bus, record and services, in this process (what App.create assembles). */
  async function peer(
    source: string,
    options: { pgUrl?: string; prefix?: string; bufferLimit?: number; streamMaxLen?: number } = {},
  ): Promise<Peer> {
    const prefix = options.prefix ?? 'pgt:';
    const archive = (await openArchive({
      url: options.pgUrl ?? db.url,
      prefix,
      logger: silentLogger,
      probeMs: 100,
      ...(options.bufferLimit !== undefined && { bufferLimit: options.bufferLimit }),
    }))!;
    await archive.ready(3_000);
    const shared = await createBus({
      redisUrl: redis.url,
      prefix,
      streamMaxLen: options.streamMaxLen ?? 10_000,
      source,
      agentId: `${source}-agent`,
      logger: silentLogger,
    });
    const bus = new ArchivedBus(shared, archive, { logger: silentLogger });
    const coordination = await createCoordination({
      redisUrl: redis.url,
      prefix,
      lockTtlMs: 10_000,
      agentTtlMs: 30_000,
      workspaceRoot: dir.path,
      bus,
      source,
      archive,
      restoreCheckMs: 100,
      logger: silentLogger,
    });
    const p: Peer = {
      bus,
      archive,
      coordination,
      close: async () => {
        await coordination.close();
        await bus.close();
      },
    };
    open.push(p);
    return p;
  }

  const drained = (p: Peer, what: string) =>
    waitFor(() => p.archive.stats().backlog === 0 && p.archive.status === 'connected', 10_000, what);

  test('two coordinators starting at once on an empty database migrate it once', async () => {
    const [a, b] = await Promise.all([peer('mig-a', { prefix: 'mig:' }), peer('mig-b', { prefix: 'mig:' })]);
    assert.equal(a.archive.status, 'connected');
    assert.equal(b.archive.status, 'connected');
    const versions = await db.query<{ version: number }>('SELECT version FROM mig_schema_migrations');
    assert.deepEqual(
      versions.map((r) => r.version),
      [1],
    );
    const tables = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE tablename LIKE 'mig\\_%' ORDER BY tablename",
    );
    assert.deepEqual(
      tables.map((r) => r.tablename),
      ['mig_events', 'mig_schema_migrations', 'mig_task_steps', 'mig_tasks'],
    );
    await Promise.all([a.close(), b.close()]);
  });

  test('events and task changes (with steps) land in PostgreSQL, each event once', async () => {
    const [a, b] = await Promise.all([peer('rec-a', { prefix: 'rec:' }), peer('rec-b', { prefix: 'rec:' })]);
    const tasks = a.coordination.tasks;
    assert.ok((await tasks.create({ taskId: 'T1', title: 'write docs', files: ['docs/a.md'] }, 'ann')).ok);
    assert.ok((await tasks.claim('T1', 'ann')).ok);
    assert.ok((await tasks.logStep('T1', 'ann', 'outline done', { pages: 2 })).ok);
    assert.ok((await tasks.logStep('T1', 'ann', 'draft done')).ok);
    assert.ok((await tasks.complete('T1', 'ann', { pr: 7 })).ok);
    // Through the other coordinator: its changes are written by it.
    assert.ok((await b.coordination.tasks.create({ taskId: 'T2', title: 'review' }, 'bob')).ok);
    await Promise.all([drained(a, 'a drained'), drained(b, 'b drained')]);

    const rows = await db.query<{
      task_id: string;
      status: string;
      agent_id: string;
      record: { result?: unknown; steps?: number };
    }>('SELECT task_id, status, agent_id, record FROM rec_tasks ORDER BY task_id');
    assert.deepEqual(
      rows.map((r) => [r.task_id, r.status, r.agent_id]),
      [
        ['T1', 'completed', 'ann'],
        ['T2', 'open', ''],
      ],
    );
    assert.deepEqual(rows[0]!.record.result, { pr: 7 });
    assert.equal(rows[0]!.record.steps, 2);
    const steps = await db.query<{ message: string; data: unknown; agent_id: string }>(
      "SELECT message, data, agent_id FROM rec_task_steps WHERE task_id = 'T1' ORDER BY at, step_id",
    );
    assert.deepEqual(steps, [
      { message: 'outline done', data: { pages: 2 }, agent_id: 'ann' },
      { message: 'draft done', data: null, agent_id: 'ann' },
    ]);
    // Both coordinators receive every event; only the publisher writes it.
    const events = await db.query<{ type: string; n: number }>(
      "SELECT type, count(*)::int AS n FROM rec_events WHERE type LIKE 'task:%' GROUP BY type ORDER BY type",
    );
    assert.deepEqual(events, [
      { type: 'task:claimed', n: 1 },
      { type: 'task:completed', n: 1 },
      { type: 'task:created', n: 2 },
      { type: 'task:progress', n: 2 },
    ]);
    const dupes = await db.query('SELECT id FROM rec_events GROUP BY id HAVING count(*) > 1');
    assert.equal(dupes.length, 0);
    const stats = a.archive.stats();
    assert.equal(stats.dropped, 0);
    assert.ok(stats.written >= 8, `written ${stats.written}`);
    await Promise.all([a.close(), b.close()]);
  });

  test('a record PostgreSQL refuses is dropped and counted; the rest of its batch lands', async () => {
    const p = await peer('refused', { prefix: 'rf:' });
    p.bus.publish({ type: 'state:changed', data: { key: 'a', n: 1 } });
    // jsonb has no place for U+0000: PostgreSQL refuses this one record.
    p.bus.publish({ type: 'state:changed', data: { key: 'b', value: 'nul\u0000here' } });
    p.bus.publish({ type: 'state:changed', data: { key: 'c', n: 3 } });
    await drained(p, 'batch written');
    const keys = await db.query<{ key: string }>("SELECT data->>'key' AS key FROM rf_events ORDER BY ts, id");
    assert.deepEqual(
      keys.map((r) => r.key),
      ['a', 'c'],
    );
    assert.equal(p.archive.stats().dropped, 1);
    assert.equal(p.archive.status, 'connected');
    await p.close();
  });

  test('PostgreSQL down at start: tools keep working, the backlog is flushed when it comes up', async () => {
    await proxy.stop();
    const p = await peer('down-start', { prefix: 'ds:', pgUrl: db.urlVia(proxy.port) });
    assert.equal(p.coordination.postgresStatus(), 'disconnected');
    const started = performance.now();
    assert.ok((await p.coordination.tasks.create({ taskId: 'D1', title: 'while pg is down' }, 'ann')).ok);
    assert.ok((await p.coordination.locks.acquire('src/x.ts', 'ann', { ttlMs: 10_000 })).ok);
    assert.ok(performance.now() - started < 500, 'tool calls do not wait on PostgreSQL');
    const during = p.coordination.archiveStats()!;
    assert.equal(during.status, 'disconnected');
    assert.ok(during.backlog >= 3, `backlog ${during.backlog}`);
    assert.ok(during.lastError, 'the last error is shown');

    await proxy.start();
    await drained(p, 'backlog flushed after PostgreSQL came up');
    const tasks = await db.query<{ status: string }>("SELECT status FROM ds_tasks WHERE task_id = 'D1'");
    assert.deepEqual(tasks, [{ status: 'open' }]);
    const types = await db.query<{ type: string }>('SELECT type FROM ds_events ORDER BY ts, id');
    assert.ok(types.some((r) => r.type === 'task:created'));
    assert.ok(types.some((r) => r.type === 'file:locked'));
    assert.equal(p.coordination.archiveStats()!.dropped, 0);
    await p.close();
  });

  test('PostgreSQL gone mid-run (connections cut, then refused): nothing waits, the backlog follows; drops are counted', async () => {
    await proxy.start();
    const p = await peer('down-mid', { prefix: 'dm:', pgUrl: db.urlVia(proxy.port), bufferLimit: 50 });
    assert.equal(p.coordination.postgresStatus(), 'connected');
    assert.ok((await p.coordination.tasks.create({ taskId: 'M1', title: 'before' }, 'ann')).ok);
    await drained(p, 'first write');

    // The backends are killed under the pool's feet: the next write fails over to a new connection.
    assert.ok((await db.terminateBackends()) >= 1);
    assert.ok((await p.coordination.tasks.create({ taskId: 'M2', title: 'after terminate' }, 'ann')).ok);
    await waitFor(
      async () => (await db.query("SELECT 1 FROM dm_tasks WHERE task_id = 'M2'")).length === 1,
      10_000,
      'M2 written after pg_terminate_backend',
    );

    await proxy.stop();
    await waitFor(() => p.coordination.postgresStatus() === 'disconnected', 5_000, 'disconnected seen');
    const started = performance.now();
    for (let i = 0; i < 30; i++) {
      assert.ok((await p.coordination.tasks.create({ taskId: `O${i}`, title: 'offline' }, 'ann')).ok);
    }
    assert.ok(performance.now() - started < 2_000, 'calls during the outage do not wait');
    const during = p.coordination.archiveStats()!;
    // 30 tasks and their 30 events, into a backlog of 50: the 10 oldest are dropped, and said so.
    assert.equal(during.backlog, 50);
    assert.equal(during.dropped, 10);
    assert.ok(during.lagMs >= 0);

    await proxy.start();
    await drained(p, 'backlog flushed after the outage');
    const [row] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM dm_tasks WHERE task_id LIKE 'O%'",
    );
    const n = row?.n ?? 0;
    assert.ok(n >= 20 && n <= 30, `offline tasks written: ${n}`);
    // The newest survive a full buffer: the last task is there.
    assert.equal((await db.query("SELECT 1 FROM dm_tasks WHERE task_id = 'O29'")).length, 1);
    assert.equal(p.coordination.archiveStats()!.dropped, 10);
    await p.close();
  });

  test('FLUSHALL on Redis: tasks come back from PostgreSQL, claimed ones with holder and locks', async () => {
    const p = await peer('restore', { prefix: 'rs:' });
    const tasks = p.coordination.tasks;
    assert.ok((await tasks.create({ taskId: 'R1', title: 'done first' }, 'ann')).ok);
    assert.ok((await tasks.claim('R1', 'ann')).ok);
    assert.ok((await tasks.complete('R1', 'ann')).ok);
    assert.ok((await tasks.create({ taskId: 'R2', title: 'open', dependsOn: ['R1'] }, 'ann')).ok);
    assert.ok((await tasks.create({ taskId: 'R3', title: 'held', files: ['lib/r3.ts'] }, 'ann')).ok);
    assert.ok((await tasks.claim('R3', 'bob')).ok);
    assert.ok((await tasks.create({ taskId: 'R4', title: 'shares r3', files: ['lib/r3.ts'] }, 'ann')).ok);
    await drained(p, 'tasks written');

    await admin.flushall();
    assert.deepEqual(await admin.keys('rs:*'), []);
    const back = await waitFor(
      async () => {
        const list = await tasks.list();
        return list.length === 4 ? list : undefined;
      },
      10_000,
      'tasks restored',
    );
    assert.deepEqual(
      back.map((t) => [t.taskId, t.status, t.agentId]),
      [
        ['R1', 'completed', 'ann'],
        ['R2', 'open', ''],
        ['R3', 'claimed', 'bob'],
        ['R4', 'open', ''],
      ],
    );
    assert.equal(p.coordination.archiveStats()!.restored, 4);
    // find_tasks' index came back with them: R2 (its dependency completed); R4 only for bob,
    // whose restored claim holds its file.
    const found = async (agentId: string) => (await tasks.find(agentId, [])).map((t) => t.taskId);
    assert.deepEqual(await found('carol'), ['R2']);
    assert.deepEqual(await found('bob'), ['R2', 'R4']);
    // The claim still holds: its file is locked for bob, another agent is refused, bob finishes.
    const lock = await p.coordination.locks.get('lib/r3.ts');
    assert.equal(lock?.holder, 'bob');
    const refused = await tasks.claim('R3', 'carol');
    assert.equal(refused.ok, false);
    assert.ok((await tasks.complete('R3', 'bob')).ok);
    // R2's dependency came back completed, so R2 is claimable.
    assert.ok((await tasks.claim('R2', 'carol')).ok);

    // Redis is the truth while it holds tasks: a later check restores nothing over them.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await tasks.get('R3'))?.status, 'completed');
    assert.equal(p.coordination.archiveStats()!.restored, 4);
    await drained(p, 'final changes written');
    await p.close();

    // On start: a coordinator that comes up on an emptied Redis restores at once.
    await admin.flushall();
    const q = await peer('restore-start', { prefix: 'rs:' });
    const list = await waitFor(
      async () => {
        const l = await q.coordination.tasks.list();
        return l.length === 4 ? l : undefined;
      },
      5_000,
      'restored on start',
    );
    assert.deepEqual(
      list.map((t) => [t.taskId, t.status]),
      [
        ['R1', 'completed'],
        ['R2', 'claimed'],
        ['R3', 'completed'],
        ['R4', 'open'],
      ],
    );
    assert.deepEqual(
      (await q.coordination.tasks.find('dave', [])).map((t) => t.taskId),
      ['R4'],
    );
    await q.close();
  });

  test('events --since reaches further back than the capped stream (from PostgreSQL); health shows PostgreSQL', async () => {
    const p = await peer('history', { prefix: 'hist:', streamMaxLen: 10 });
    const first = p.bus.publish({ type: 'state:changed', data: { key: 'k', n: 0 } });
    for (let i = 1; i < 400; i++) p.bus.publish({ type: 'state:changed', data: { key: 'k', n: i } });
    await drained(p, 'events written');
    await waitFor(() => p.bus.stats().buffered === 0, 5_000, 'stream written');
    const streamLength = await admin.xlen('hist:events:stream');
    assert.ok(streamLength < 400, `the stream is capped (${streamLength})`);
    const sinceStart = new Date(Date.parse(first.timestamp) - 1).toISOString();

    const replayed = await p.bus.replay({ since: sinceStart, type: 'state:*' });
    assert.equal(replayed.length, 400);
    assert.deepEqual(
      replayed.slice(0, 3).map((e) => e.data.n),
      [0, 1, 2],
    );

    const config = writeConfig(dir.path, {
      servers: {},
      coordination: { redis: redis.url, postgres: db.url, prefix: 'hist:', streamMaxLen: 10 },
    });
    const events = spawnSync(
      process.execPath,
      [MAIN, 'events', '--since', sinceStart, '--type', 'state:*', '--config', config],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(events.status, 0, events.stderr);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; data: { n: number } });
    assert.equal(lines.length, 400);
    assert.equal(lines[0]!.id, first.id);
    assert.equal(lines[399]!.data.n, 399);
    await p.close();

    // Health: connected when reachable; a closed port is disconnected, degraded, with the detail.
    const health = (postgres: string) => {
      const file = writeConfig(
        dir.path,
        { servers: {}, coordination: { redis: redis.url, postgres, prefix: 'hist:' } },
        'h.yml',
      );
      const run = spawnSync(process.execPath, [MAIN, 'health', '--json', '--config', file], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      return JSON.parse(run.stdout) as {
        overall: string;
        dependencies: { redis: string; postgres: string };
        postgres?: { backlog: number; dropped: number; lastError: string | null };
      };
    };
    const up = health(db.url);
    assert.deepEqual(up.dependencies, { redis: 'connected', postgres: 'connected' });
    assert.equal(up.overall, 'healthy');
    await proxy.stop();
    const down = health(db.urlVia(proxy.port));
    assert.equal(down.dependencies.postgres, 'disconnected');
    assert.equal(down.overall, 'degraded');
    assert.equal(down.postgres?.dropped, 0);
    assert.match(down.postgres?.lastError ?? '', /ECONNREFUSED|connect/i);
  });
});
