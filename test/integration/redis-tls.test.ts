/**
 * `coordination.redis: rediss://…` against a real TLS-only redis-server whose certificate comes
 * from a throwaway CA (openssl, in a temp dir). The built `serve`, driven by an SDK client, trusts
 * that CA through NODE_EXTRA_CA_CERTS — Node's own way to add CAs to its default store, which
 * every TLS connection of the process (ioredis included) uses; the contract has no config key
 * for a CA. A lock taken through MCP is then a key in that Redis, read back over TLS. A server
 * the coordinator cannot trust (signed by a CA other than the one it was given, or a certificate
 * for another name) is a clear error naming the TLS failure, answered at once, never a hang.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Redis } from 'ioredis';

import {
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';
import { makeTestPki, startTlsRedis, type TestPki, type TlsRedis } from '../helpers/redis-tls.js';

const sc = <T>(r: unknown) => (r as CallToolResult).structuredContent as T;
const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
/** A tool call that neither answers nor fails within this is a hang. */
const ANSWER_MS = 10_000;

describe('Redis over TLS (rediss://)', { concurrency: true }, () => {
  const dir = tempDir();
  let pki: TestPki;
  let redis: TlsRedis;
  let wrongName: TlsRedis;
  const started: StartedCoordinator[] = [];

  before(async () => {
    pki = await makeTestPki();
    [redis, wrongName] = await Promise.all([startTlsRedis(pki), startTlsRedis(pki, pki.wrongName)]);
  });
  after(async () => {
    await Promise.all(started.map((c) => c.close()));
    await Promise.all([redis?.stop(), wrongName?.stop()]);
    pki?.remove();
    dir.remove();
  });

  const serve = async (name: string, url: string, caFile: string | undefined) => {
    const coordination = { redis: url, prefix: `${name}:`, workspaceRoot: dir.path };
    const file = writeConfig(dir.path, { servers: {}, coordination }, `${name}.yml`);
    const env: Record<string, string> = { MCP_AGENT_ID: `agent-${name}` };
    if (caFile) env.NODE_EXTRA_CA_CERTS = caFile;
    const c = await startCoordinator(file, { env });
    started.push(c);
    return c;
  };
  const lock = (c: StartedCoordinator, file: string) =>
    c.client.callTool({ name: 'coordinator__lock_file', arguments: { file } }, undefined, {
      timeout: ANSWER_MS,
    }) as Promise<CallToolResult>;

  test('with the CA trusted, a lock taken through MCP is a key in the TLS Redis', async () => {
    const c = await serve('trusted', redis.url, pki.caFile);
    const got = await lock(c, 'src/secure.ts');
    assert.equal(got.isError, undefined, textOf(got));
    assert.equal(sc<{ locked: boolean }>(got).locked, true);

    const direct = new Redis(redis.url, { tls: { ca: readFileSync(pki.caFile) }, lazyConnect: true });
    try {
      await direct.connect();
      const stored = JSON.parse((await direct.get('trusted:lock:src/secure.ts')) ?? 'null') as {
        holder: string;
      } | null;
      assert.equal(stored?.holder, 'agent-trusted');
    } finally {
      direct.disconnect();
    }
  });

  for (const [name, why, pick] of [
    [
      'untrusted',
      /self[- ]signed certificate|unable to verify/i,
      () => ({ url: redis.url, ca: pki.otherCaFile }),
    ],
    ['wrongname', /altnames|does not match|Hostname\/IP/i, () => ({ url: wrongName.url, ca: pki.caFile })],
  ] as const) {
    test(`a server it cannot trust (${name}) is a clear error naming the TLS failure, not a hang`, async () => {
      const { url, ca } = pick();
      const c = await serve(name, url, ca);
      const t0 = Date.now();
      const got = await lock(c, 'src/secure.ts').catch((error: Error) => error);
      const text = got instanceof Error ? got.message : textOf(got);
      assert.ok(got instanceof Error || got.isError, `refused: ${text}`);
      assert.ok(Date.now() - t0 < ANSWER_MS, 'answered');
      assert.match(text, /shared store unreachable/);
      assert.match(text, why, 'the refusal names the TLS failure');
      // And the log says it too, for whoever runs the coordinator.
      await waitFor(() => why.test(c.stderr()), 10_000);
    });
  }
});
