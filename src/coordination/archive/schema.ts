/**
 * The PostgreSQL layout, in versioned migrations. Table names carry the configured prefix made
 * into an identifier (`mcp:` → `mcp_`): `<p>schema_migrations`, `<p>events`, `<p>tasks`,
 * `<p>task_steps`. Migrations run in one transaction under an advisory lock keyed by the prefix,
 * so two coordinators starting at once apply each version exactly once (the second waits, then
 * finds nothing to do).
 */
export interface Migration {
  version: number;
  name: string;
  sql: (t: TableNames) => string;
}

export interface TableNames {
  migrations: string;
  events: string;
  tasks: string;
  steps: string;
  /** The advisory lock's key text. */
  lockKey: string;
}

/** `mcp:` → `mcp_`; anything outside [a-z0-9_] becomes `_`, and a leading digit gets a `_`. */
export function identifierPrefix(prefix: string): string {
  let p = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (p !== '' && !/^[a-z_]/.test(p)) p = `_${p}`;
  // Room for the longest suffix (schema_migrations) within PostgreSQL's 63-byte identifiers.
  return p.slice(0, 40);
}

export function tableNames(prefix: string): TableNames {
  const p = identifierPrefix(prefix);
  const quote = (name: string) => `"${p}${name}"`;
  return {
    migrations: quote('schema_migrations'),
    events: quote('events'),
    tasks: quote('tasks'),
    steps: quote('task_steps'),
    lockKey: `mcp-coordinator:migrate:${p}`,
  };
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, tasks, task steps',
    // Ids sort as text (event ids are zero-padded; see events.ts), hence COLLATE "C".
    sql: (t) => `
      CREATE TABLE ${t.events} (
        id text COLLATE "C" PRIMARY KEY,
        type text NOT NULL,
        source text NOT NULL,
        agent_id text NOT NULL,
        data jsonb NOT NULL,
        signature text,
        ts timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ON ${t.events} (ts, id);
      CREATE TABLE ${t.tasks} (
        task_id text PRIMARY KEY,
        status text NOT NULL,
        agent_id text NOT NULL,
        record jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ON ${t.tasks} (status);
      CREATE TABLE ${t.steps} (
        task_id text NOT NULL,
        step_id text COLLATE "C" NOT NULL,
        agent_id text NOT NULL,
        message text NOT NULL,
        data jsonb,
        at timestamptz NOT NULL,
        PRIMARY KEY (task_id, step_id)
      );`,
  },
];
