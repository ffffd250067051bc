/**
 * The durable record in PostgreSQL (the `pg` driver, loaded only when configured).
 *
 * `record()` only queues: a bounded buffer (the oldest go first when full, counted as dropped)
 * drained in batches of one transaction each, one batch on the wire at a time. A failed batch is
 * put back and retried after a back-off; a probe (SELECT 1, or the migrations until they have
 * run) every `probeMs` notices PostgreSQL coming and going while nothing is written. So an outage
 * — at start or mid-run — costs tool calls nothing, and the backlog is flushed when it is back.
 */
import pg from 'pg';

import { bareMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { RingBuffer } from '../bus/ring.js';
import { planReplay } from '../bus/replay.js';
import { EVENT_TYPES, type CoordinationEvent, type EventType, type ReplayOptions } from '../types.js';
import type { TaskRecord } from '../tasks/types.js';
import { MIGRATIONS, tableNames, type TableNames } from './schema.js';
import type { Archive, ArchiveRecord, ArchiveStats, ArchiveStatus } from './types.js';
import { batchStatements } from './writes.js';

export const ARCHIVE_DEFAULTS = {
  bufferLimit: 100_000,
  batchSize: 500,
  /** Between probes of a PostgreSQL that is down (and of one that is idle). */
  probeMs: 2_000,
  connectTimeoutMs: 2_000,
  /** What close() gives the backlog before disconnecting. */
  closeFlushMs: 2_000,
} as const;

export interface PgArchiveOptions {
  url: string;
  prefix: string;
  logger: Logger;
  bufferLimit?: number;
  batchSize?: number;
  probeMs?: number;
}

interface Queued {
  item: ArchiveRecord;
  at: number;
}

export class PgArchive implements Archive {
  private current: ArchiveStatus = 'disconnected';
  private readonly pool: pg.Pool;
  private readonly t: TableNames;
  private readonly logger: Logger;
  private readonly queue: RingBuffer<Queued>;
  private readonly batchSize: number;
  private readonly probeMs: number;
  private readonly listeners = new Set<(status: ArchiveStatus) => void>();
  private migrated = false;
  private inFlight = 0;
  private flushing: Promise<void> | undefined;
  private flushQueued = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  private dropped = 0;
  private written = 0;
  private restored = 0;
  private lastError: string | null = null;
  private warnedDrop = false;
  private oldestInFlight = 0;
  private probedOnce!: () => void;
  /** Settles when the first probe (connect and migrate) has succeeded or failed. */
  private readonly firstProbe = new Promise<void>((resolve) => (this.probedOnce = resolve));

  constructor(options: PgArchiveOptions) {
    this.logger = options.logger.child('postgres');
    this.t = tableNames(options.prefix);
    this.queue = new RingBuffer(options.bufferLimit ?? ARCHIVE_DEFAULTS.bufferLimit);
    this.batchSize = options.batchSize ?? ARCHIVE_DEFAULTS.batchSize;
    this.probeMs = options.probeMs ?? ARCHIVE_DEFAULTS.probeMs;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: 2,
      connectionTimeoutMillis: ARCHIVE_DEFAULTS.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      application_name: 'mcp-coordinator',
    });
    // An idle client whose backend went away (a restart, pg_terminate_backend) emits here; without
    // a listener that would crash the process.
    this.pool.on('error', (error) => this.failed(error));
    this.probe();
  }

  get status(): ArchiveStatus {
    return this.current;
  }

  record(item: ArchiveRecord): void {
    if (this.closed) {
      this.dropped += 1;
      return;
    }
    if (this.queue.push({ item, at: Date.now() }) > 0) this.noteDropped(1);
    this.kick();
  }

  async replay(options: ReplayOptions): Promise<CoordinationEvent[]> {
    const plan = planReplay(options);
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (plan.afterStreamId !== undefined) {
      values.push(new Date(Number(plan.afterStreamId.split('-')[0]) + 1).toISOString());
      conditions.push(`ts >= $${values.length}`);
    } else if (plan.fromMs !== undefined) {
      values.push(new Date(plan.fromMs).toISOString());
      conditions.push(`ts >= $${values.length}`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const order = plan.fromNewest ? 'DESC' : 'ASC';
    // The type glob and the exact since test are the plan's (shared with the other backends);
    // page through so a narrow glob with a limit does not load the table.
    const out: CoordinationEvent[] = [];
    const want = plan.limit ?? Number.POSITIVE_INFINITY;
    const page = 1000;
    let cursor: { ts: string; id: string } | undefined;
    while (out.length < want) {
      const pageValues = [...values];
      let cursorCondition = '';
      if (cursor) {
        pageValues.push(cursor.ts, cursor.id);
        const cmp = plan.fromNewest ? '<' : '>';
        const a = pageValues.length - 1;
        cursorCondition = `${where ? ' AND' : 'WHERE'} (ts, id) ${cmp} ($${a}::timestamptz, $${a + 1})`;
      }
      const { rows } = await this.pool.query<EventRow>(
        `SELECT id, type, source, agent_id, data, signature, ts FROM ${this.t.events} ${where}${cursorCondition}
         ORDER BY ts ${order}, id ${order} LIMIT ${page}`,
        pageValues,
      );
      for (const row of rows) {
        const event = toEvent(row);
        if (event && plan.accept(event)) out.push(event);
        if (out.length >= want) break;
      }
      if (rows.length < page) break;
      const last = rows[rows.length - 1]!;
      cursor = { ts: new Date(last.ts).toISOString(), id: last.id };
    }
    return plan.fromNewest ? out.reverse() : out;
  }

  async tasksToRestore(): Promise<TaskRecord[]> {
    const { rows } = await this.pool.query<{ record: TaskRecord; open: boolean }>(
      `SELECT record, EXISTS (SELECT 1 FROM ${this.t.tasks} WHERE status IN ('open', 'claimed')) AS open
         FROM ${this.t.tasks} ORDER BY task_id`,
    );
    return rows.length > 0 && rows[0]!.open ? rows.map((r) => r.record) : [];
  }

  noteRestored(count: number): void {
    this.restored += count;
  }

  /** Waits (at most `timeoutMs`) for the first connection attempt only: a known outage answers at once. */
  async ready(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstProbe,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    return this.current === 'connected';
  }

  onStatus(listener: (status: ArchiveStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): ArchiveStats {
    const oldest = this.inFlight > 0 ? this.oldestInFlight : this.queue.toArray()[0]?.at;
    return {
      status: this.current,
      backlog: this.queue.size + this.inFlight,
      bufferLimit: this.queue.capacity,
      dropped: this.dropped,
      written: this.written,
      lagMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
      restored: this.restored,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const deadline = Date.now() + ARCHIVE_DEFAULTS.closeFlushMs;
    // A short-lived command may close before the first connection is made.
    if (this.queue.size > 0) await this.ready(ARCHIVE_DEFAULTS.closeFlushMs);
    while (this.current === 'connected' && this.queue.size + this.inFlight > 0 && Date.now() < deadline) {
      await (this.flushing ?? this.flush());
      if (this.current !== 'connected') break;
    }
    this.closed = true;
    clearTimeout(this.probeTimer);
    const left = this.queue.size;
    if (left > 0) this.logger.warn('closing with records not written to postgres', { records: left });
    this.setStatus('disconnected');
    this.listeners.clear();
    await this.pool.end().catch(() => {});
  }

  /** Drains soon when there is something to write and PostgreSQL is up. */
  private kick(): void {
    if (this.closed || this.flushQueued || this.flushing) return;
    if (this.queue.size === 0 || this.current !== 'connected') return;
    this.flushQueued = true;
    // A macrotask: everything recorded during the current burst leaves in one batch.
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      this.kick();
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && this.current === 'connected' && !this.closed) {
      const batch = this.queue.shift(this.batchSize);
      this.inFlight = batch.length;
      this.oldestInFlight = batch[0]!.at;
      try {
        await this.write(batch.map((q) => q.item));
        this.written += batch.length;
      } catch (error) {
        if (isRefusal(error)) {
          // PostgreSQL refused the data (a NUL in a string, say): resending the batch would fail
          // forever, so its records go one by one and only the refused ones are dropped.
          const ok = await this.writeOneByOne(batch);
          if (ok) continue;
        }
        // Our tables are gone (dropped by hand): migrate again before the next attempt.
        if (error instanceof pg.DatabaseError && error.code === '42P01') this.migrated = false;
        const dropped = this.queue.unshift(batch);
        if (dropped > 0) this.noteDropped(dropped);
        this.failed(error);
        return;
      } finally {
        this.inFlight = 0;
      }
    }
  }

  /** False when the connection failed on the way (the batch is then retried as a whole). */
  private async writeOneByOne(batch: Queued[]): Promise<boolean> {
    let done = 0;
    for (const queued of batch) {
      try {
        await this.write([queued.item]);
        this.written += 1;
      } catch (error) {
        if (!isRefusal(error)) {
          // Put back only what is not written yet.
          batch.splice(0, done);
          return false;
        }
        this.dropped += 1;
        this.logger.error('postgres refused a record; dropped', {
          kind: queued.item.kind,
          error: bareMessage(error),
        });
      }
      done += 1;
    }
    return true;
  }

  private async write(batch: ArchiveRecord[]): Promise<void> {
    await this.transaction(async (client) => {
      for (const statement of batchStatements(this.t, batch)) await client.query(statement);
    });
  }

  /** `work` in one transaction on a pooled client; a client that failed is not reused. */
  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.checkout();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      broken = error;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.removeListener('error', this.onClientError);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /**
   * A pooled client for a transaction. While checked out, a client whose connection dies emits
   * 'error' (the pool only listens on idle ones): unheard, that would crash the process. The query
   * in flight rejects as well, and that is where the failure is handled.
   */
  private async checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    client.on('error', this.onClientError);
    return client;
  }

  private readonly onClientError = (error: Error): void => {
    this.logger.debug('postgres connection lost mid-transaction', { error: bareMessage(error) });
  };

  /** Migrate until that has worked once, then SELECT 1; every probeMs, and now. */
  private probe(): void {
    if (this.closed || this.probing) return;
    this.probing = true;
    const check = this.migrated ? this.pool.query('SELECT 1').then(() => {}) : this.migrate();
    check
      .then(
        () => {
          this.lastError = this.current === 'connected' ? this.lastError : null;
          this.setStatus('connected');
        },
        (error: unknown) => this.failed(error),
      )
      .finally(() => {
        this.probing = false;
        this.probedOnce();
        if (this.closed) return;
        clearTimeout(this.probeTimer);
        this.probeTimer = setTimeout(() => this.probe(), this.probeMs);
        this.probeTimer.unref();
      });
  }

  /** Versioned, idempotent, one transaction under an advisory lock (see schema.ts). */
  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [this.t.lockKey]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t.migrations} (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${this.t.migrations}`);
      const applied = new Set(rows.map((r) => r.version));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql(this.t));
        await client.query(`INSERT INTO ${this.t.migrations} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        this.logger.info('postgres migration applied', { version: migration.version, name: migration.name });
      }
    });
    this.migrated = true;
  }

  private failed(error: unknown): void {
    const message = bareMessage(error);
    if (this.current === 'connected' || this.lastError === null) {
      this.logger.warn('postgres unreachable; buffering the durable record', {
        error: message,
        backlog: this.queue.size,
      });
    } else {
      this.logger.debug('postgres error', { error: message });
    }
    this.lastError = message;
    this.setStatus('disconnected');
  }

  private setStatus(next: ArchiveStatus): void {
    if (next === this.current) return;
    this.current = next;
    if (next === 'connected') {
      this.logger.info('postgres connected', { backlog: this.queue.size });
      this.warnedDrop = false;
      this.kick();
    }
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (error) {
        this.logger.error('postgres status listener threw', { error });
      }
    }
  }

  private noteDropped(count: number): void {
    this.dropped += count;
    if (!this.warnedDrop) {
      this.warnedDrop = true;
      this.logger.warn('postgres backlog full; dropping the oldest records', { limit: this.queue.capacity });
    }
  }
}

/**
 * An answer from the server refusing this data (bad input, a constraint), as opposed to a lost
 * or refused connection, a server shutting down or out of connections, or a transaction that
 * lost a race: those are worth retrying as they are.
 */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || typeof error.code !== 'string') return false;
  const retryable = ['08', '53', '57', '58', '40', '42'];
  return !retryable.includes(error.code.slice(0, 2));
}

interface EventRow {
  id: string;
  type: string;
  source: string;
  agent_id: string;
  data: Record<string, unknown>;
  signature: string | null;
  ts: Date;
}

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES);

function toEvent(row: EventRow): CoordinationEvent | undefined {
  if (!KNOWN.has(row.type)) return undefined;
  return {
    id: row.id,
    type: row.type as EventType,
    source: row.source,
    agentId: row.agent_id,
    data: row.data,
    timestamp: new Date(row.ts).toISOString(),
    ...(row.signature !== null ? { signature: row.signature } : {}),
  };
}
