/**
 * The machine's real PostgreSQL for tests (`MCP_TEST_POSTGRES_URL`, default the local trust-auth
 * server): each test file gets its own database, dropped afterwards, never a shared schema. And a
 * TCP proxy in front of it that a test can stop and start again, so "PostgreSQL down" (at start
 * or mid-run) is a real refused or cut connection to a real server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

import { tcpProxy, type TcpProxy } from './tcp-proxy.js';

export const ADMIN_URL = process.env.MCP_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** URL of this database through another host:port (the proxy). */
  urlVia(port: number): string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  /** pg_terminate_backend on every other connection to this database. */
  terminateBackends(): Promise<number>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mcp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    name,
    url: url.toString(),
    urlVia(port) {
      const via = new URL(url);
      via.host = `127.0.0.1:${port}`;
      return via.toString();
    },
    async query(text, values) {
      return (await client.query(text, values)).rows;
    },
    async terminateBackends() {
      const { rows } = await client.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      return rows.length;
    },
    async drop() {
      await client.end().catch(() => {});
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

export type PgProxy = TcpProxy;

/** A loopback TCP proxy to the PostgreSQL of ADMIN_URL; created stopped (its port refuses). */
export function pgProxy(): Promise<PgProxy> {
  const target = new URL(ADMIN_URL);
  return tcpProxy(Number(target.port || 5432), { host: target.hostname, started: false });
}
