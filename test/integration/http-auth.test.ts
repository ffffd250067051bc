/**
 * The HTTP face with `http.auth`: API keys (plain and hashed, Bearer and X-API-Key) with scopes,
 * OAuth access tokens from a real loopback issuer, the rate limit — and each refusal with its
 * status, its JSON error and, where the spec says so, its WWW-Authenticate. One client never acts
 * as another: not through its agent id, not through another client's session id.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { fixtureServer, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, v2Client, type HttpCoordinator } from '../helpers/http.js';
import { startIssuer, type Issuer } from '../helpers/oauth-issuer.js';

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef00';
const VIEWER = 'viewer-key-0123456789abcdef';
const OPS = 'ops-key-0123456789abcdef0000';
const BURST = 'burst-key-0123456789abcdef00';
const sha256 = (key: string) => `sha256:${createHash('sha256').update(key).digest('hex')}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const text = (result: unknown) =>
  ((result as CallToolResult).content[0] as { type: 'text'; text: string } | undefined)?.text;
const errorCode = (r: { json: Record<string, unknown> }) =>
  (r.json.error as { code: string } | undefined)?.code;

describe('serve --http with API keys and OAuth', () => {
  const dir = tempDir();
  let issuer: Issuer;
  let c: HttpCoordinator;
  before(async () => {
    issuer = await startIssuer();
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old') },
      http: {
        // Per caller: the burst key is the only one that comes near it.
        rateLimitPerMinute: 60,
        auth: {
          keys: [
            { name: 'alice', key: ALICE, scopes: ['read', 'call'], agent: 'alice-bot' },
            { name: 'bob', keyHash: sha256(BOB), scopes: ['read', 'call'] },
            { name: 'viewer', key: VIEWER, scopes: ['read'] },
            { name: 'ops', key: OPS, scopes: ['read', 'call', 'admin'] },
            { name: 'burst', key: BURST, scopes: ['read'] },
          ],
          oauth: { issuer: issuer.url, audience: 'mcp-coordinator' },
        },
      },
    });
    c = await startHttp(file);
    await waitFor(async () => (await api(c.url, '/health')).json.status === 'ok', 20_000, 'old healthy');
  });
  after(async () => {
    await c.stop();
    issuer.child.kill();
    dir.remove();
  });

  test('no key, a wrong key, a key in the query string: 401 / 401 / 400, and /health stays open', async () => {
    const none = await api(c.url, '/status');
    assert.equal(none.status, 401);
    assert.equal(errorCode(none), 'unauthorized');
    assert.match(
      none.headers.get('www-authenticate') ?? '',
      /^Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    const wrong = await api(c.url, '/status', { headers: bearer('not-a-key-at-all-000000') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const query = await api(c.url, `/status?api_key=${ALICE}`);
    assert.equal(query.status, 400);
    assert.equal(errorCode(query), 'key_in_query');
    assert.ok(!JSON.stringify(query.json).includes(ALICE), 'the key is never echoed');
    assert.equal((await api(c.url, '/health')).status, 200);
    // The MCP endpoint is behind the same gate.
    const mcp = await fetch(`${c.url}/mcp`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(mcp.status, 401);
  });

  test('plain and hashed keys, Bearer and X-API-Key; scopes read / call / admin', async () => {
    assert.equal((await api(c.url, '/status', { headers: bearer(ALICE) })).status, 200);
    assert.equal((await api(c.url, '/status', { headers: { 'x-api-key': BOB } })).status, 200);
    const readOnly = await api(c.url, '/route', {
      headers: bearer(VIEWER),
      body: { tool: 'old__echo', arguments: { text: 'x' } },
    });
    assert.equal(readOnly.status, 403);
    assert.equal(errorCode(readOnly), 'insufficient_scope');
    assert.match(readOnly.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    // Over MCP: a read-only key lists, but may not call.
    const viewer = await v2Client(c.url, { era: 'modern', headers: bearer(VIEWER) });
    try {
      assert.ok((await viewer.listTools()).tools.some((t) => t.name === 'old__echo'));
      await assert.rejects(
        viewer.callTool({ name: 'old__echo', arguments: { text: 'x' } }),
        /403|insufficient_scope|scope/i,
      );
    } finally {
      await viewer.close();
    }
    const notAdmin = await api(c.url, '/api/servers/old/restart', { method: 'POST', headers: bearer(ALICE) });
    assert.equal(notAdmin.status, 403);
    const admin = await api(c.url, '/api/servers/old/restart', { method: 'POST', headers: bearer(OPS) });
    assert.equal(admin.status, 202);
    await waitFor(
      async () => (await api(c.url, '/health')).json.status === 'ok',
      20_000,
      'old back after the restart',
    );
  });

  test('a read key cannot call by any spelling: a BOM before the JSON, a batch, a body the face cannot read', async () => {
    const post = (body: string | Buffer) =>
      fetch(`${c.url}/mcp`, {
        method: 'POST',
        headers: {
          ...bearer(VIEWER),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'old__echo',
        },
        body,
      });
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'old__echo',
        arguments: { text: 'x' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'bom', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    });
    const bom = await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(call)]));
    assert.equal(bom.status, 403, await bom.text());
    const batch = await post(`[${call}]`);
    assert.equal(batch.status, 403);
    const garbled = await post(`${call.slice(0, -1)}`);
    assert.equal(garbled.status, 400);
    // A key that may call gets through the BOM spelling (it is read, not refused).
    const ok = await fetch(`${c.url}/mcp`, {
      method: 'POST',
      headers: {
        ...bearer(ALICE),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'old__echo',
      },
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(call)]),
    });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /"text":"x"/);
  });

  test('each key acts as its own agent; a session id of another client is unknown to it', async () => {
    const alice = await v2Client(c.url, { era: 'legacy', headers: bearer(ALICE), name: 'same-ide' });
    const bob = await v2Client(c.url, { era: 'legacy', headers: bearer(BOB), name: 'same-ide' });
    try {
      const locked = await alice.callTool({ name: 'coordinator__lock_file', arguments: { file: 'api.rs' } });
      assert.notEqual(locked.isError, true, text(locked));
      const refused = await bob.callTool({ name: 'coordinator__lock_file', arguments: { file: 'api.rs' } });
      assert.equal(refused.isError, true);
      assert.equal((refused.structuredContent as { holder: string }).holder, 'alice-bot');
      // Bob presenting Alice's session id is answered as for any unknown session.
      const sid = (alice.transport as { sessionId?: string } | undefined)?.sessionId;
      assert.ok(sid, 'the legacy client has a session id');
      const hijack = await fetch(`${c.url}/mcp`, {
        method: 'POST',
        headers: {
          ...bearer(BOB),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'coordinator__unlock_file', arguments: { file: 'api.rs' } },
        }),
      });
      assert.equal(hijack.status, 404);
      const still = await api(c.url, '/api/locks', { headers: bearer(ALICE) });
      assert.equal((still.json.locks as Array<{ holder: string }>)[0]?.holder, 'alice-bot');
      await alice.callTool({ name: 'coordinator__unlock_file', arguments: { file: 'api.rs' } });
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });

  test('OAuth: a valid access token acts as its subject; expired or foreign-audience tokens get 401', async () => {
    const token = await issuer.token({ sub: 'carol', aud: 'mcp-coordinator', scope: 'mcp:read mcp:call' });
    const routed = await api(c.url, '/route', {
      headers: bearer(token),
      body: { tool: 'coordinator__lock_file', arguments: { file: 'x.md' } },
    });
    assert.equal(routed.status, 200);
    const locks = await api(c.url, '/api/locks', { headers: bearer(token) });
    assert.ok((locks.json.locks as Array<{ holder: string }>).some((l) => l.holder === 'carol'));
    await api(c.url, '/route', {
      headers: bearer(token),
      body: { tool: 'coordinator__unlock_file', arguments: { file: 'x.md' } },
    });

    const expired = await issuer.token({
      sub: 'carol',
      aud: 'mcp-coordinator',
      scope: 'mcp:read',
      expiresIn: -600,
    });
    const late = await api(c.url, '/status', { headers: bearer(expired) });
    assert.equal(late.status, 401);
    assert.match(late.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const foreign = await issuer.token({ sub: 'carol', aud: 'someone-else', scope: 'mcp:read' });
    assert.equal((await api(c.url, '/status', { headers: bearer(foreign) })).status, 401);

    const metadata = await api(c.url, '/.well-known/oauth-protected-resource/mcp');
    assert.equal(metadata.status, 200);
    assert.deepEqual(metadata.json.authorization_servers, [issuer.url]);
  });

  test('the dashboard signs in with an OAuth access token as with a key: the subject, its scopes', async () => {
    const page = { origin: c.url };
    const token = await issuer.token({ sub: 'dana', aud: 'mcp-coordinator', scope: 'mcp:read' });
    const signIn = await fetch(`${c.url}/ui/session`, {
      method: 'POST',
      headers: { ...page, 'content-type': 'application/json' },
      body: JSON.stringify({ key: token }),
    });
    assert.equal(signIn.status, 200);
    const who = (await signIn.json()) as {
      signedIn: boolean;
      name: string;
      scopes: string[];
      csrfToken: string;
    };
    assert.equal(who.signedIn, true);
    assert.equal(who.name, 'dana');
    assert.deepEqual(who.scopes, ['read']);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    assert.doesNotMatch(cookie, new RegExp(token.slice(-20)), 'the cookie is a session id, not the token');

    // The cookie now reads; a call needs the call scope, which this token does not carry.
    const locks = await api(c.url, '/api/locks', { headers: { ...page, cookie } });
    assert.equal(locks.status, 200);
    const call = await api(c.url, '/api/tools/coordinator__lock_file/call', {
      body: { arguments: { file: 'dash.md' } },
      headers: { ...page, cookie, 'x-csrf-token': who.csrfToken },
    });
    assert.equal(call.status, 403);

    // An expired token, or one for another audience, is no sign-in.
    for (const bad of [
      await issuer.token({ sub: 'dana', aud: 'mcp-coordinator', scope: 'mcp:read', expiresIn: -600 }),
      await issuer.token({ sub: 'dana', aud: 'someone-else', scope: 'mcp:read' }),
    ]) {
      const refused = await api(c.url, '/ui/session', { body: { key: bad }, headers: page });
      assert.equal(refused.status, 401);
      assert.equal((refused.json.error as { code: string }).code, 'invalid_key');
    }
  });

  test('over the rate limit: 429 with Retry-After, for that caller only', async () => {
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 80 && !limited; i++) {
      const r = await api(c.url, '/api/locks', { headers: bearer(BURST) });
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, 'the 61st request in a minute at the latest is refused');
    assert.equal(errorCode(limited), 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await api(c.url, '/api/locks', { headers: bearer(ALICE) })).status, 200);
  });
  // Last: it spends this address's budget of failed attempts.
  test('guessing keys is rate-limited per address; routing to a built-in is a clear 400', async () => {
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 80 && !limited; i++) {
      const r = await api(c.url, '/status', { headers: bearer(`guess-${i}-0123456789abcdef`) });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(limited, 'wrong keys are limited like right ones');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const self = await api(c.url, '/route', {
      headers: bearer(ALICE),
      body: { tool: 'coordinator__route', arguments: { tool: 'coordinator__health' } },
    });
    assert.equal(self.status, 400);
    assert.match(JSON.stringify(self.json.error), /call it directly/);
  });
});
