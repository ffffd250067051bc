/**
 * The pure parts of the durable record: table names from the prefix, batches as SQL, and the
 * `coordination.postgres` key of the config. (The writing itself is tested against a real
 * PostgreSQL in test/integration/postgres.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { identifierPrefix, MIGRATIONS, tableNames } from '../../../src/coordination/archive/schema.js';
import { batchStatements } from '../../../src/coordination/archive/writes.js';
import { parseConfigText } from '../../../src/config/load.js';
import type { TaskRecord } from '../../../src/coordination/tasks/types.js';

const task = (taskId: string, status: TaskRecord['status'], updatedAt: string): TaskRecord => ({
  taskId,
  status,
  agentId: 'ann',
  files: [],
  updatedAt,
});

describe('durable record: layout and batches', () => {
  it('makes the prefix an identifier and quotes every table', () => {
    assert.equal(identifierPrefix('mcp:'), 'mcp_');
    assert.equal(identifierPrefix('Team-A:'), 'team_a_');
    assert.equal(identifierPrefix('1x:'), '_1x_');
    assert.equal(identifierPrefix(''), '');
    assert.ok(identifierPrefix('p'.repeat(100)).length <= 40);
    const t = tableNames('mcp:');
    assert.equal(t.events, '"mcp_events"');
    assert.equal(t.tasks, '"mcp_tasks"');
    assert.equal(t.steps, '"mcp_task_steps"');
    assert.equal(t.migrations, '"mcp_schema_migrations"');
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
      'versions are 1..n in order',
    );
  });

  it('writes one statement per table, keeps the latest change of a task within a batch', () => {
    const t = tableNames('mcp:');
    const statements = batchStatements(t, [
      { kind: 'task', task: task('a', 'open', '2026-01-01T00:00:00.000Z') },
      {
        kind: 'event',
        event: {
          id: '1767225600000-000000-abcd',
          type: 'task:created',
          source: 's',
          agentId: 'ann',
          data: { taskId: 'a' },
          timestamp: '2026-01-01T00:00:00.000Z',
        },
      },
      { kind: 'task', task: task('a', 'claimed', '2026-01-01T00:00:01.000Z') },
      {
        kind: 'step',
        step: { id: '1-0', taskId: 'a', agentId: 'ann', message: 'm', at: '2026-01-01T00:00:02.000Z' },
      },
    ]);
    assert.equal(statements.length, 3);
    const [events, tasks, steps] = statements;
    assert.match(events!.text, /^INSERT INTO "mcp_events" .* ON CONFLICT \(id\) DO NOTHING$/s);
    assert.equal(events!.values.length, 7);
    assert.match(tasks!.text, /WHERE t\.updated_at <= EXCLUDED\.updated_at/);
    assert.equal(tasks!.values.length, 5, 'one row for task a');
    assert.equal(tasks!.values[1], 'claimed');
    assert.match(steps!.text, /ON CONFLICT \(task_id, step_id\) DO NOTHING/);
    assert.equal(steps!.values[4], null, 'a step without data stores NULL');
    assert.deepEqual(batchStatements(t, []), []);
  });

  it('coordination.postgres takes a postgres:// URL or nothing', () => {
    const parse = (postgres: string) =>
      parseConfigText(JSON.stringify({ servers: {}, coordination: { postgres } }), 'servers.yml', {});
    assert.equal(parse('').coordination.postgres, '');
    assert.equal(parse('postgres://u@db:5432/x').coordination.postgres, 'postgres://u@db:5432/x');
    assert.equal(parse('postgresql://db/x').coordination.postgres, 'postgresql://db/x');
    assert.throws(() => parse('http://db/x'), /postgres/);
    assert.equal(parseConfigText('servers: {}', 'servers.yml', {}).coordination.postgres, '');
  });
});
