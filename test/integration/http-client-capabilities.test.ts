/**
 * A modern downstream learns what the CALLING client can answer, not what the coordinator could:
 * the client's capabilities (a modern request's envelope, or what a legacy client declared at
 * initialize) replace the coordinator's own on the envelope of the forwarded request. Found by the
 * conformance suite (server-stateless: sep-2575-server-rejects-undeclared-capability; and
 * input-required-result-capability-check): before, every downstream saw the coordinator's
 * `sampling` and `elicitation`, ran tools the client could not serve, and asked it for input it
 * could not give.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult, Client } from '@modelcontextprotocol/client';
import { ROOT, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, v2Client, type HttpCoordinator } from '../helpers/http.js';

const CONFORMANCE_FIXTURE = join(ROOT, 'test/fixtures/conformance-server.mjs');
const MISSING_CAPABILITY = -32021;

const text = (result: unknown) =>
  ((result as CallToolResult).content[0] as { type: 'text'; text: string } | undefined)?.text;

/** test_missing_capability needs sampling: -32021 unless the client declared it. */
async function callNeedingSampling(client: Client): Promise<string | number | undefined> {
  try {
    return text(await client.callTool({ name: 'test_missing_capability', arguments: {} }));
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

describe("serve --http: the calling client's capabilities reach a modern downstream", () => {
  const dir = tempDir();
  let c: HttpCoordinator;
  before(async () => {
    const file = writeConfig(dir.path, {
      servers: { conformance: { command: process.execPath, args: [CONFORMANCE_FIXTURE], prefix: '' } },
    });
    c = await startHttp(file);
    await waitFor(
      async () => JSON.stringify((await api(c.url, '/api/tools')).json).includes('test_missing_capability'),
      20_000,
      "the fixture's tools listed",
    );
  });
  after(async () => {
    await c.stop();
    dir.remove();
  });

  for (const era of ['modern', 'legacy'] as const) {
    test(`${era}: a client without sampling is refused (-32021), one with it served`, async () => {
      const without = await v2Client(c.url, { era, name: `${era}-plain` });
      const withSampling = await v2Client(c.url, {
        era,
        name: `${era}-sampling`,
        capabilities: { sampling: {} },
      });
      try {
        assert.equal(await callNeedingSampling(without), MISSING_CAPABILITY);
        assert.equal(await callNeedingSampling(withSampling), 'Success');
      } finally {
        await Promise.all([without.close(), withSampling.close()]);
      }
    });
  }
});
