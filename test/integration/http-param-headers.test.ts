/**
 * SEP-2243 on the coordinator's own tools: a downstream tool whose inputSchema marks a property
 * `x-mcp-header: Region` is served only when the `Mcp-Param-Region` header agrees with the body
 * (plain or `=?base64?…?=`); missing, different or badly encoded: 400 with -32020. The SDK's
 * handler checks this only for tools of its own McpServer, so before the coordinator checked it
 * itself every such call was served whatever the header said (found by the conformance suite:
 * http-custom-header-server-validation).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, type HttpCoordinator } from '../helpers/http.js';

const CONFORMANCE_FIXTURE = join(ROOT, 'test/fixtures/conformance-server.mjs');
const REVISION = '2026-07-28';

type Reply = { status: number; code?: number; text?: string };

describe('serve --http: Mcp-Param-* headers of a downstream tool are checked against the body', () => {
  const dir = tempDir();
  let c: HttpCoordinator;
  let nextId = 1;

  /** A modern tools/call of test_header_param {region}, with the Mcp-Param-Region header given (or none). */
  async function call(region: string, header: string | undefined): Promise<Reply> {
    const response = await fetch(`${c.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': REVISION,
        'mcp-method': 'tools/call',
        'mcp-name': 'test_header_param',
        ...(header !== undefined && { 'mcp-param-region': header }),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: {
          name: 'test_header_param',
          arguments: { region },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': REVISION,
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    const raw = await response.text();
    // JSON, or one SSE event carrying the response.
    const json = JSON.parse(raw.startsWith('{') ? raw : (/^data: (.*)$/m.exec(raw)?.[1] ?? '{}')) as {
      error?: { code: number };
      result?: { content: { text: string }[] };
    };
    return { status: response.status, code: json.error?.code, text: json.result?.content[0]?.text };
  }

  before(async () => {
    const file = writeConfig(dir.path, {
      servers: { conformance: { command: process.execPath, args: [CONFORMANCE_FIXTURE], prefix: '' } },
    });
    c = await startHttp(file);
    await waitFor(
      async () => JSON.stringify((await api(c.url, '/api/tools')).json).includes('test_header_param'),
      20_000,
      "the fixture's tools listed",
    );
  });
  after(async () => {
    await c.stop();
    dir.remove();
  });

  test('a header that agrees, plain or Base64, is served', async () => {
    assert.deepEqual(await call('eu-west', 'eu-west'), {
      status: 200,
      code: undefined,
      text: 'region eu-west',
    });
    const encoded = `=?base64?${Buffer.from('Zürich').toString('base64')}?=`;
    assert.deepEqual(await call('Zürich', encoded), { status: 200, code: undefined, text: 'region Zürich' });
  });

  test('a missing, different or badly encoded header is refused with 400 and -32020', async () => {
    for (const header of [undefined, 'us-east', '=?base64?ZXUtd2VzdA?=', '=?base64?ZX!!d2VzdA==?=']) {
      assert.deepEqual(
        await call('eu-west', header),
        { status: 400, code: -32020, text: undefined },
        String(header),
      );
    }
  });
});
