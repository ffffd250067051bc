/**
 * Forwarding between instances over real loopback HTTP: what `forwardRequest` hands on and brings
 * back, and which requests `Peers.intercept` takes away from its own instance.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { forwardRequest } from '../../../src/http/forward.js';
import { parseBody } from '../../../src/http/mcp-endpoint.js';
import {
  FORWARDED_HEADER,
  MemoryInstanceRegistry,
  Peers,
  tagOf,
  VIA_HEADER,
  type McpRequestAtFace,
} from '../../../src/http/peers.js';
import { readBody } from '../../../src/http/respond.js';
import { RequestStateSealer } from '../../../src/server/request-state.js';
import { silentLogger } from '../../../src/shared/logger.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The owner: echoes what it got as JSON, in two chunks with a pause (a streamed answer). */
const echoOwner: Handler = async (req, res) => {
  const body = await readBody(req, 1 << 20);
  res.writeHead(201, { 'content-type': 'application/json', 'x-owner': 'yes' });
  const json = JSON.stringify({
    method: req.method,
    url: req.url,
    headers: req.headers,
    body: body.toString(),
  });
  res.write(json.slice(0, 10));
  await new Promise((r) => setTimeout(r, 30));
  res.end(json.slice(10));
};

describe('forwardRequest', () => {
  let owner: { url: string; server: Server };
  let silent: { url: string; server: Server };
  /** Requests the silent owner saw end (their client went away). */
  let silentClosed = 0;
  before(async () => {
    owner = await serve(echoOwner);
    // Takes the request, never answers.
    silent = await serve((req) => void req.socket.once('close', () => silentClosed++));
  });
  after(async () => {
    await Promise.all([stop(owner.server), stop(silent.server)]);
  });

  /** A front server that forwards everything to `target`, answering 599 itself when that fails. */
  async function front(target: string, connectTimeoutMs = 2_000) {
    return serve(async (req, res) => {
      const body = await readBody(req, 1 << 20);
      const ok = await forwardRequest({
        req,
        res,
        target: new URL(req.url ?? '/', target),
        body,
        headers: { [FORWARDED_HEADER]: 'front' },
        connectTimeoutMs,
      });
      if (!ok) res.writeHead(599).end('not forwarded');
    });
  }

  it('hands on method, path, credentials and body, marks the request, streams the answer back', async () => {
    const f = await front(owner.url);
    try {
      const response = await fetch(`${f.url}/mcp?x=1`, {
        method: 'POST',
        headers: { authorization: 'Bearer k1', 'x-api-key': 'k2', 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0"}',
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('x-owner'), 'yes');
      const seen = (await response.json()) as {
        method: string;
        url: string;
        headers: Record<string, string>;
        body: string;
      };
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/mcp?x=1');
      assert.equal(seen.body, '{"jsonrpc":"2.0"}');
      assert.equal(seen.headers.authorization, 'Bearer k1');
      assert.equal(seen.headers['x-api-key'], 'k2');
      assert.equal(seen.headers[FORWARDED_HEADER], 'front');
      assert.equal(seen.headers['content-length'], '17');
      assert.equal(seen.headers.host, new URL(f.url).host, 'the Host the client used is kept');
    } finally {
      await stop(f.server);
    }
  });

  it('an owner that cannot be reached: false, the response untouched (the caller answers)', async () => {
    const refused = await front('http://127.0.0.1:1');
    try {
      assert.equal((await fetch(`${refused.url}/mcp`)).status, 599);
    } finally {
      await stop(refused.server);
    }
  });

  it('an answer may take as long as the call; a client that goes away ends the forwarded request', async () => {
    const f = await front(silent.url, 100);
    try {
      await assert.rejects(fetch(`${f.url}/mcp`, { signal: AbortSignal.timeout(400) }));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(silentClosed, 1, 'the owner saw the forwarded request end');
    } finally {
      await stop(f.server);
    }
  });
});

describe('Peers.intercept', () => {
  const sealer = new RequestStateSealer('shared');
  const registry = new MemoryInstanceRegistry();
  const peers = new Peers({ tag: 'aaaa', sealer, registry, logger: silentLogger });
  let owner: { url: string; server: Server };
  /** What intercept did with one request to a face of instance `aaaa`. */
  let face: { url: string; server: Server };
  before(async () => {
    owner = await serve(echoOwner);
    await registry.announce('bbbb', owner.url);
    face = await serve(async (req, res) => {
      const raw = await readBody(req, 1 << 20);
      const r: McpRequestAtFace = {
        req,
        res,
        url: new URL(req.url ?? '/', 'http://face'),
        raw,
        body: parseBody(raw),
        callerKey: 'caller-1',
      };
      if (!(await peers.intercept(r))) res.writeHead(299).end('served here');
    });
  });
  after(async () => {
    await peers.close();
    await Promise.all([stop(owner.server), stop(face.server)]);
  });

  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(`${face.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('session ids: its own, unknown and already-forwarded ones stay; a known owner gets the request', async () => {
    assert.equal(tagOf('bbbb.1234'), 'bbbb');
    assert.equal(tagOf('plain-uuid'), undefined);
    for (const id of ['aaaa.1', 'cccc.1', 'no-tag']) {
      assert.equal((await post({ 'mcp-session-id': id }, {})).status, 299, id);
    }
    assert.equal((await post({ 'mcp-session-id': 'bbbb.1', [FORWARDED_HEADER]: 'x' }, {})).status, 299);
    const forwarded = await post({ 'mcp-session-id': 'bbbb.1' }, { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(forwarded.status, 201);
    assert.equal(forwarded.headers.get(VIA_HEADER), 'aaaa');
    const seen = (await forwarded.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers[FORWARDED_HEADER], 'aaaa');
  });

  it('requestState: a foreign parked exchange goes to its owner, or a clear error; anything else stays', async () => {
    const call = (state: string, headers: Record<string, string> = {}) =>
      post(headers, {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 't', requestState: state },
      });
    assert.equal((await call(sealer.seal({ k: 'x', x: 'e1', i: 'aaaa' }, 'caller-1'))).status, 299);
    assert.equal((await call(sealer.seal({ k: 'p', d: 'neo' }, 'caller-1'))).status, 299);
    assert.equal((await call('forged.state')).status, 299);
    // Minted for another caller: not opened, so left to the handler's refusal.
    assert.equal((await call(sealer.seal({ k: 'x', x: 'e1', i: 'bbbb' }, 'caller-2'))).status, 299);
    assert.equal((await call(sealer.seal({ k: 'x', x: 'e1', i: 'bbbb' }, 'caller-1'))).status, 201);
    for (const [state, headers] of [
      [sealer.seal({ k: 'x', x: 'e1', i: 'cccc' }, 'caller-1'), {}],
      [sealer.seal({ k: 'x', x: 'e1', i: 'bbbb' }, 'caller-1'), { [FORWARDED_HEADER]: 'x' }],
    ] as const) {
      const refused = await call(state, headers);
      assert.equal(refused.status, 200);
      const body = (await refused.json()) as { id: number; error: { code: number; message: string } };
      assert.equal(body.id, 7);
      assert.equal(body.error.code, -32602);
      assert.match(body.error.message, /lives on another coordinator instance/);
    }
  });
});
