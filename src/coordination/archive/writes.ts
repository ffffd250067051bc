/**
 * Records → SQL: one transaction per batch, one multi-row statement per table. Events and steps
 * are inserted with ON CONFLICT DO NOTHING (a resent batch, or an event read twice, lands once);
 * a task is upserted only when the incoming record is not older than the stored one, so two
 * coordinators writing changes of one task in either order end with the latest.
 */
import type { TableNames } from './schema.js';
import type { ArchiveRecord } from './types.js';

export interface Statement {
  text: string;
  values: unknown[];
}

export function batchStatements(t: TableNames, batch: readonly ArchiveRecord[]): Statement[] {
  const events: unknown[][] = [];
  const steps: unknown[][] = [];
  // Within one statement a row may be upserted once: keep each task's latest record.
  const tasks = new Map<string, unknown[]>();
  for (const item of batch) {
    if (item.kind === 'event') {
      const e = item.event;
      events.push([
        e.id,
        e.type,
        e.source,
        e.agentId,
        JSON.stringify(e.data),
        e.signature ?? null,
        e.timestamp,
      ]);
    } else if (item.kind === 'step') {
      const s = item.step;
      const data = s.data === undefined ? null : JSON.stringify(s.data);
      steps.push([s.taskId, s.id, s.agentId, s.message, data, s.at]);
    } else {
      const task = item.task;
      tasks.set(task.taskId, [
        task.taskId,
        task.status,
        task.agentId,
        JSON.stringify(task),
        task.updatedAt || new Date().toISOString(),
      ]);
    }
  }
  const out: Statement[] = [];
  if (events.length > 0) {
    out.push(
      insert(
        `INSERT INTO ${t.events} (id, type, source, agent_id, data, signature, ts)`,
        events,
        'ON CONFLICT (id) DO NOTHING',
      ),
    );
  }
  if (tasks.size > 0) {
    out.push(
      insert(
        `INSERT INTO ${t.tasks} AS t (task_id, status, agent_id, record, updated_at)`,
        [...tasks.values()],
        `ON CONFLICT (task_id) DO UPDATE SET status = EXCLUDED.status, agent_id = EXCLUDED.agent_id,
           record = EXCLUDED.record, updated_at = EXCLUDED.updated_at, recorded_at = now()
         WHERE t.updated_at <= EXCLUDED.updated_at`,
      ),
    );
  }
  if (steps.length > 0) {
    out.push(
      insert(
        `INSERT INTO ${t.steps} (task_id, step_id, agent_id, message, data, at)`,
        steps,
        'ON CONFLICT (task_id, step_id) DO NOTHING',
      ),
    );
  }
  return out;
}

function insert(head: string, rows: unknown[][], tail: string): Statement {
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const slots = row.map((value) => {
      values.push(value);
      return `$${values.length}`;
    });
    return `(${slots.join(', ')})`;
  });
  return { text: `${head} VALUES ${tuples.join(', ')} ${tail}`, values };
}
