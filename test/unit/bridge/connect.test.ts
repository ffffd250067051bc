import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SdkErrorCode,
  SdkHttpError,
  type JSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/client';
import { parseCommandLine, UsageError } from '../../../src/cli/args.js';
import { connectTarget } from '../../../src/cli/connect.js';
import { HttpBridge } from '../../../src/bridge/http-bridge.js';
import { classify, serverMessage } from '../../../src/bridge/failures.js';

const target = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  connectTarget(parseCommandLine(['connect', ...argv]), env);

describe('connect URL [--token] [--header]', () => {
  it('takes http(s) URLs, the token from --token or $MCP_COORDINATOR_TOKEN, and repeated headers', () => {
    assert.deepEqual(
      target(['https://gw.example/mcp?tenant=a', '--header', 'X-Team: blue', '--header', 'X-Env:prod']),
      {
        url: new URL('https://gw.example/mcp?tenant=a'),
        headers: { 'X-Team': 'blue', 'X-Env': 'prod' },
      },
    );
    assert.equal(
      target(['http://127.0.0.1:8766/mcp'], { MCP_COORDINATOR_TOKEN: 'k1' }).headers.Authorization,
      'Bearer k1',
    );
    // The flag wins over the environment.
    assert.equal(
      target(['http://127.0.0.1:8766/mcp', '--token', 'k2'], { MCP_COORDINATOR_TOKEN: 'k1' }).headers
        .Authorization,
      'Bearer k2',
    );
    assert.deepEqual(target(['http://127.0.0.1:8766/mcp'], { MCP_COORDINATOR_TOKEN: '' }).headers, {});
  });

  it('refuses credentials in the URL, other schemes, bad headers and two Authorizations, without echoing secrets', () => {
    const refused: Array<[string[], RegExp]> = [
      [['http://h/mcp?key=s3cr3t'], /credential in its query \(key=\)/],
      [['http://h/mcp?access_token=s3cr3t'], /access_token=/],
      [['http://h/mcp?apiKey=s3cr3t'], /apiKey=/],
      [['http://h/mcp?API-KEY=s3cr3t'], /API-KEY=/],
      [['http://me:s3cr3t@h/mcp'], /user:password@/],
      [['ws://h/mcp'], /needs http:\/\/ or https:\/\//],
      [['h/mcp'], /is not a URL/],
      [['http://h/mcp', '--header', 'X-Key s3cr3t'], /is not NAME:VALUE/],
      [['http://h/mcp', '--header', 'Mcp-Protocol-Version: 2025-06-18'], /set by the MCP transport/],
      [['http://h/mcp', '--header', 'X-A: 1', '--header', 'x-a: 2'], /given twice/],
      [['http://h/mcp', '--token', 's3cr3t', '--header', 'Authorization: Bearer other'], /give one of them/],
      [['http://h/mcp', '--token', 'two words'], /white space/],
    ];
    for (const [argv, message] of refused) {
      assert.throws(
        () => target(argv),
        (error: Error) => {
          assert.ok(error instanceof UsageError, argv.join(' '));
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /s3cr3t/);
          return true;
        },
      );
    }
    // A query that only looks like one is fine.
    assert.equal(target(['http://h/mcp?keyboard=1&monkey=2']).url.search, '?keyboard=1&monkey=2');
  });
});

describe('what a failed exchange means', () => {
  const refused = () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    return new TypeError('fetch failed', { cause: new AggregateError([inner, inner]) });
  };
  const http = (status: number, text: string) =>
    new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, {
      status,
      statusText: '',
      text,
    });

  it('tells never-sent from maybe-ran, a forgotten session from a wrong URL, and reads the server message', () => {
    assert.equal(classify(refused(), true).kind, 'unreachable');
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    assert.equal(classify(reset, true).kind, 'lost');
    assert.deepEqual(classify(http(401, '{"error":{"code":"unauthorized","message":"bad key"}}'), false), {
      kind: 'auth',
      status: 401,
      message: 'bad key',
    });
    assert.equal(
      classify(http(404, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"}}'), true)
        .kind,
      'session-gone',
    );
    assert.equal(classify(http(404, 'Not Found'), false).kind, 'http');
    assert.equal(serverMessage('{"error":"nope"}'), 'nope');
    assert.equal(serverMessage('  plain\n text '), 'plain text');
    assert.equal(serverMessage(''), undefined);
  });
});

/** The client's side of the bridge, in memory: what the bridge wrote to it. */
function fakeClient() {
  const sent: JSONRPCMessage[] = [];
  const transport: Transport = {
    start: async () => {},
    close: async () => {},
    send: async (message) => void sent.push(message),
  };
  return { transport, sent, receive: (message: JSONRPCMessage) => transport.onmessage?.(message) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const request = (id: number, method = 'tools/list'): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method,
  params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
});

describe('HttpBridge limits', () => {
  it('answers at once, with an error, a request past the pending limit', async () => {
    const client = fakeClient();
    const bridge = new HttpBridge({
      url: new URL('http://127.0.0.1:1/mcp'),
      headers: {},
      client: client.transport,
      say: () => {},
      limits: { maxPending: 1 },
      fetch: () => new Promise<Response>(() => {}),
    });
    await bridge.start();
    client.receive(request(1));
    client.receive(request(2));
    await until(() => client.sent.length === 1, 'the refusal');
    const [refusal] = client.sent as Array<{ id: number; error: { message: string } }>;
    assert.equal(refusal!.id, 2);
    assert.match(refusal!.error.message, /1 requests already in flight/);
    await bridge.close();
  });

  it('drops a server message over the size limit, says so, and answers the request with an error', async () => {
    const client = fakeClient();
    const said: string[] = [];
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [], pad: 'x'.repeat(5_000) } });
    const bridge = new HttpBridge({
      url: new URL('http://127.0.0.1:1/mcp'),
      headers: {},
      client: client.transport,
      say: (line) => said.push(line),
      limits: { maxMessageBytes: 1_000 },
      fetch: async () => new Response(big, { headers: { 'content-type': 'application/json' } }),
    });
    await bridge.start();
    client.receive(request(1, 'tools/call'));
    await until(() => client.sent.length === 1, 'the answer');
    const [answer] = client.sent as Array<{ id: number; error?: { message: string } }>;
    assert.equal(answer!.id, 1);
    assert.match(
      answer!.error?.message ?? '',
      /tools\/call failed at .*: a message from the server exceeds the 1000 bytes limit/,
    );
    assert.ok(
      said.some((line) => /exceeds the 1000 bytes limit/.test(line)),
      said.join('\n'),
    );
    await bridge.close();
  });
});
