/**
 * The HTTP face's authentication end to end over loopback: real issuers (test/fixtures/
 * oauth-issuer.mjs, child processes with their own key pairs) whose metadata and JWKS the
 * Authenticator fetches itself, and a bare node:http server in front of it so headers travel
 * the real way in both directions. No mocks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Authenticator, type Scope } from '../../src/http/auth.js';
import { startIssuer, type Issuer } from '../helpers/oauth-issuer.js';

const AUDIENCE = 'mcp-coordinator';
const CI_KEY = 'ci-key-0123456789abcdef';
const OPS_KEY = 'ops-key-fedcba9876543210';

interface Answer {
  status: number;
  challenge: string | null;
  body: {
    name?: string;
    agentId?: string;
    kind?: string;
    scopes?: string[];
    error?: { code: string; message: string };
  };
  raw: string;
}

/** The part of the HTTP face this module feeds: authenticate, then require a scope. */
function frontFor(authenticator: () => Authenticator): Server {
  return createServer((req, res) => {
    const authn = authenticator();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, headers: Record<string, string>, body: unknown) => {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void authn.authenticate(req.headers, url).then((outcome) => {
      if (!outcome.ok)
        return send(outcome.status, outcome.headers, {
          error: { code: outcome.code, message: outcome.message },
        });
      const denied = authn.require(outcome.principal, (url.searchParams.get('need') ?? 'read') as Scope);
      if (denied)
        return send(denied.status, denied.headers, { error: { code: denied.code, message: denied.message } });
      const { name, agentId, kind, scopes } = outcome.principal;
      send(200, {}, { name, agentId, kind, scopes: [...scopes] });
    });
  });
}

describe('HTTP auth against real loopback issuers', () => {
  let issuer: Issuer;
  let stranger: Issuer;
  let oidcIssuer: Issuer;
  let front: Server;
  let base: string;
  let authn: Authenticator;
  let metadataUrl: string;

  async function call(headers: Record<string, string> = {}, path = '/mcp'): Promise<Answer> {
    const res = await fetch(`${base}${path}`, { headers });
    const raw = await res.text();
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: JSON.parse(raw) as Answer['body'],
      raw,
    };
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    [issuer, stranger, oidcIssuer] = await Promise.all([
      startIssuer(),
      startIssuer(),
      startIssuer('--metadata', 'oidc', '--alg', 'RS256'),
    ]);
    // Listening first: the resource URL needs the port.
    front = frontFor(() => authn);
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    authn = new Authenticator(
      {
        keys: [
          { name: 'ci', key: CI_KEY, scopes: ['read'] },
          {
            name: 'ops',
            keyHash: `sha256:${createHash('sha256').update(OPS_KEY).digest('hex')}`,
            scopes: ['read', 'call', 'admin'],
            agent: 'ops-bot',
          },
        ],
        oauth: { issuer: issuer.url, audience: AUDIENCE },
      },
      { resourceUrl: `${base}/mcp` },
    );
    metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`;
  });

  after(async () => {
    front?.closeAllConnections();
    front?.close();
    await Promise.all(
      [issuer, stranger, oidcIssuer].map(async (i) => {
        if (!i || i.child.exitCode !== null) return;
        const exited = once(i.child, 'exit');
        i.child.kill();
        await exited;
      }),
    );
  });

  it('a valid token: the subject, acting as itself, with the scopes it carries', async () => {
    const token = await issuer.token({ sub: 'alice', aud: AUDIENCE, scope: 'openid mcp:read mcp:call' });
    const answer = await call(bearer(token), '/mcp?need=call');
    assert.equal(answer.status, 200, answer.raw);
    assert.deepEqual(answer.body, {
      name: 'alice',
      agentId: 'alice',
      kind: 'oauth',
      scopes: ['read', 'call'],
    });
    // Bare scope names count too.
    const bare = await call(
      bearer(await issuer.token({ sub: 'bob', aud: AUDIENCE, scope: 'read admin' })),
      '/mcp?need=admin',
    );
    assert.deepEqual(bare.body.scopes, ['read', 'admin']);
  });

  it('the issuer is asked for its metadata and keys once, however many tokens follow', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await call(bearer(await issuer.token({ sub: `agent-${i}`, aud: AUDIENCE })))).status,
        200,
      );
    }
    const stats = await issuer.stats();
    assert.equal(stats['/.well-known/oauth-authorization-server'], 1);
    assert.equal(stats['/keys'], 1);
  });

  it('no credentials: 401 naming the protected resource metadata', async () => {
    const answer = await call();
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error?.code, 'unauthorized');
    assert.equal(answer.challenge, `Bearer realm="mcp-coordinator", resource_metadata="${metadataUrl}"`);
  });

  const refusals: [string, () => Promise<string>, string][] = [
    [
      'expired',
      () => issuer.token({ sub: 'alice', aud: AUDIENCE, expiresIn: -120 }),
      'the token has expired',
    ],
    [
      'for another audience',
      () => issuer.token({ sub: 'alice', aud: 'another-api' }),
      'the token is meant for another audience',
    ],
    [
      'from another issuer',
      () => issuer.token({ sub: 'alice', aud: AUDIENCE, iss: 'http://127.0.0.1:9/' }),
      'the token was issued by another issuer',
    ],
    [
      'signed by a key the issuer does not publish',
      () => stranger.token({ sub: 'alice', aud: AUDIENCE, iss: issuer.url, scope: 'mcp:admin' }),
      'the token is signed by a key the issuer does not publish',
    ],
  ];
  for (const [name, mint, description] of refusals) {
    it(`a token ${name}: 401 invalid_token saying so, without the token`, async () => {
      const token = await mint();
      const answer = await call(bearer(token));
      assert.equal(answer.status, 401, answer.raw);
      assert.equal(answer.body.error?.code, 'invalid_token');
      assert.equal(
        answer.challenge,
        `Bearer realm="mcp-coordinator", error="invalid_token", error_description="${description}", resource_metadata="${metadataUrl}"`,
      );
      assert.ok(!answer.raw.includes(token) && !answer.challenge?.includes(token));
    });
  }

  it('a token with the issuer key id but another key: the signature does not verify', async () => {
    const good = await issuer.token({ sub: 'alice', aud: AUDIENCE });
    const forged = await stranger.token({
      sub: 'mallory',
      aud: AUDIENCE,
      iss: issuer.url,
      scope: 'mcp:admin',
    });
    // The stranger's header and payload, under the issuer's key id: only the signature is wrong.
    const [goodHeader] = good.split('.');
    const [, payload, signature] = forged.split('.');
    const answer = await call(bearer(`${goodHeader}.${payload}.${signature}`));
    assert.equal(answer.status, 401);
    assert.match(answer.challenge ?? '', /error_description="the token's signature does not verify"/);
  });

  it('serves the protected resource metadata that leads a client to the issuer', async () => {
    const doc = authn.protectedResourceMetadata();
    assert.deepEqual(doc, {
      resource: `${base}/mcp`,
      authorization_servers: [issuer.url],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:call', 'mcp:admin'],
      resource_name: 'mcp-coordinator',
    });
    assert.equal(authn.resourceMetadataUrl, metadataUrl);
    const [server] = doc['authorization_servers'] as string[];
    const as = (await (await fetch(`${server}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string;
    };
    assert.equal(as.issuer, issuer.url);
  });

  it('keys: plain as Bearer, hashed as X-API-Key acting as its agent', async () => {
    assert.deepEqual((await call(bearer(CI_KEY))).body, {
      name: 'ci',
      agentId: 'ci',
      kind: 'key',
      scopes: ['read'],
    });
    const ops = await call({ 'x-api-key': OPS_KEY }, '/mcp?need=admin');
    assert.deepEqual(ops.body, {
      name: 'ops',
      agentId: 'ops-bot',
      kind: 'key',
      scopes: ['read', 'call', 'admin'],
    });
  });

  it('a wrong key: 401 invalid_token', async () => {
    const answer = await call({ 'x-api-key': 'ci-key-0123456789abcdeX' });
    assert.equal(answer.status, 401);
    assert.equal(
      answer.challenge,
      `Bearer realm="mcp-coordinator", error="invalid_token", error_description="the key or token is not valid", resource_metadata="${metadataUrl}"`,
    );
    assert.ok(!answer.raw.includes('0123456789abcdeX'));
  });

  it('a key in the query string: 400 key_in_query, never echoing it', async () => {
    const answer = await call({}, `/mcp?access_token=${CI_KEY}`);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'key_in_query');
    assert.match(answer.body.error?.message ?? '', /"access_token"/);
    assert.ok(!answer.raw.includes(CI_KEY));
  });

  it('a scope the key lacks: 403 insufficient_scope naming it', async () => {
    const answer = await call(bearer(CI_KEY), '/mcp?need=call');
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error?.code, 'insufficient_scope');
    assert.equal(
      answer.challenge,
      `Bearer realm="mcp-coordinator", error="insufficient_scope", error_description="the \\"call\\" scope is required", scope="call", resource_metadata="${metadataUrl}"`,
    );
  });

  it('an RS256 issuer found through OpenID discovery', async () => {
    const rs = new Authenticator(
      { keys: [], oauth: { issuer: oidcIssuer.url, audience: AUDIENCE } },
      { resourceUrl: `${base}/mcp` },
    );
    const token = await oidcIssuer.token({ sub: 'dana', aud: AUDIENCE, scope: 'mcp:call' });
    const outcome = await rs.authenticate({ authorization: `Bearer ${token}` }, new URL(`${base}/mcp`));
    assert.ok(outcome.ok);
    assert.deepEqual([outcome.principal.name, [...outcome.principal.scopes]], ['dana', ['call']]);
    const stats = await oidcIssuer.stats();
    assert.equal(stats['/.well-known/oauth-authorization-server'], 1, 'RFC 8414 tried first');
    assert.equal(stats['/.well-known/openid-configuration'], 1);
  });
});
