/**
 * The bus rows again with the durable record on (issue 13: "events still ≥ 20,000/s
 * publish→deliver with PostgreSQL archiving on, archive lag reported"). The publishing side is
 * what the app builds when `coordination.postgres` is set — `ArchivedBus` over the `RedisBus`,
 * with the `PgArchive` from `openArchive` — against the machine's PostgreSQL, in a database of its
 * own that is dropped afterwards.
 *
 * Archive lag is publish → the row committed in PostgreSQL. The archive writes its queue in
 * order, one batch at a time, and counts a batch as written once its transaction committed; a
 * 1 ms timer watching that count therefore knows, for the n-th event published, when it was
 * committed (to within the timer's tick). Measured over the saturated run and at the steady rate
 * of the latency figures; the backlog is the archive's own (`stats().backlog`) at the moment the
 * last event of the saturated run was delivered.
 */
import { openArchive, ArchivedBus, type Archive } from '../src/coordination/archive/index.js';
import { tableNames } from '../src/coordination/archive/schema.js';
import { silentLogger } from '../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/postgres.js';
import {
  CONNECT_TIMEOUT_MS,
  dropStream,
  latency,
  makeBus,
  throughput,
  until,
  THROUGHPUT_TIME_MS,
} from './bus-load.js';
import { percentile, round } from './stats.js';
import type { BenchRow } from './types.js';

const ARCHIVE_READY_MS = 10_000;
/** How long the archive may take to catch up after the last delivery before we stop waiting. */
const DRAIN_MS = THROUGHPUT_TIME_MS;

/** Publish times by ordinal, and commit lags read off the archive's written count. */
class LagWatch {
  private readonly sentAt: number[] = [];
  private seen = 0;
  private readonly base: number;
  private readonly timer: NodeJS.Timeout;
  lags: number[] = [];

  constructor(private readonly archive: Archive) {
    this.base = archive.stats().written;
    this.timer = setInterval(() => this.poll(), 1);
  }

  published(): void {
    this.sentAt.push(performance.now());
  }

  get count(): number {
    return this.sentAt.length;
  }

  get committed(): number {
    return this.seen;
  }

  /** Starts a new series of lags (the events before it keep their ordinals). */
  take(): number[] {
    this.poll();
    const out = this.lags;
    this.lags = [];
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    const now = performance.now();
    const written = Math.min(this.archive.stats().written - this.base, this.sentAt.length);
    for (; this.seen < written; this.seen++) this.lags.push(now - this.sentAt[this.seen]!);
  }
}

export async function benchArchivedBus(redisUrl: string, log: (m: string) => void): Promise<BenchRow[]> {
  let db: TestDatabase;
  try {
    db = await createTestDatabase();
  } catch (error) {
    const note = `no PostgreSQL: ${(error as Error).message}`;
    log(note);
    return [{ name: 'bus throughput, PostgreSQL archive on', value: null, unit: 'events/s', note }];
  }
  const prefix = `bench:${process.pid}:${Date.now()}:`;
  const archive = (await openArchive({ url: db.url, prefix, logger: silentLogger }))!;
  const publisher = makeBus(redisUrl, prefix, 'bench-publisher');
  const subscriber = makeBus(redisUrl, prefix, 'bench-subscriber');
  const bus = new ArchivedBus(publisher, archive, { logger: silentLogger });
  let watch: LagWatch | undefined;
  try {
    if (!(await archive.ready(ARCHIVE_READY_MS))) {
      throw new Error(`PostgreSQL archive not ready: ${archive.stats().lastError ?? 'timeout'}`);
    }
    await until(
      () => publisher.status === 'connected' && subscriber.status === 'connected',
      CONNECT_TIMEOUT_MS,
    );
    const w = new LagWatch(archive);
    watch = w;
    const run = await throughput({ publish: bus, publisher, subscriber, onPublished: () => w.published() });
    const atEnd = archive.stats();
    await until(() => w.committed >= w.count, DRAIN_MS, false);
    const drainMs = w.committed >= w.count ? performance.now() - run.lastAt : Number.NaN;
    const saturated = w.take();
    const steadyStart = w.count;
    await latency({ publish: bus, subscriber, onPublished: () => w.published() });
    await until(() => w.committed >= w.count, DRAIN_MS, false);
    const steady = w.take();
    w.stop();
    const published = w.count;
    const counted = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableNames(prefix).events}`);
    const n = counted[0]?.n ?? '0';
    const final = archive.stats();
    const inPg = `${n} of ${published} published events in PostgreSQL; ${final.dropped} dropped`;
    log(inPg);
    const lagRow = (name: string, lags: number[], q: number, of: number): BenchRow => ({
      name,
      value: lags.length ? round(percentile(lags, q), 1) : null,
      unit: 'ms',
      note: `${lags.length} of ${of} events committed`,
    });
    return [
      {
        name: 'bus publish→deliver throughput, PostgreSQL archive on',
        value: Math.round(run.eventsPerSecond),
        unit: 'events/s',
        target: '>= 20000',
        pass: run.eventsPerSecond >= 20_000,
        note: inPg,
      },
      lagRow('archive lag p50 (publish → committed), saturated', saturated, 0.5, steadyStart),
      lagRow('archive lag p95, saturated', saturated, 0.95, steadyStart),
      {
        name: 'archive backlog at the last delivery, saturated',
        value: atEnd.backlog,
        unit: 'records',
        note: Number.isFinite(drainMs)
          ? `oldest waiting ${atEnd.lagMs} ms; drained ${Math.round(drainMs)} ms after the last delivery`
          : `oldest waiting ${atEnd.lagMs} ms; not drained within ${DRAIN_MS} ms`,
      },
      lagRow('archive lag p50, steady rate', steady, 0.5, published - steadyStart),
      lagRow('archive lag p95, steady rate', steady, 0.95, published - steadyStart),
    ];
  } finally {
    watch?.stop();
    await Promise.all([publisher.close(), subscriber.close()]);
    await archive.close();
    await dropStream(redisUrl, `${prefix}events:stream`);
    await db.drop().catch((error: unknown) => log(`could not drop ${db.name}: ${(error as Error).message}`));
  }
}
