import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { type AuthFailure, Authenticator, type AuthOutcome, type Principal } from '../../../src/http/auth.js';
import type { Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/shared/logger.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { memoryIssuer } from './memory-issuer.js';

const RESOURCE = 'http://127.0.0.1:8766/mcp';
const MCP = new URL(RESOURCE);
const CI_KEY = 'ci-key-0123456789abcdef';
const OPS_KEY = 'ops-key-fedcba9876543210';
const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

type AuthConfig = NonNullable<Config['http']['auth']>;
const KEYS: AuthConfig['keys'] = [
  { name: 'ci', key: CI_KEY, scopes: ['read', 'call'] },
  { name: 'ops', keyHash: sha256(OPS_KEY), scopes: ['read', 'call', 'admin'], agent: 'ops-bot' },
  { name: 'viewer', key: 'viewer-key-000000000000', scopes: ['read'] },
];

function principal(outcome: AuthOutcome): Principal {
  if (!outcome.ok)
    assert.fail(`expected a principal, got ${outcome.status} ${outcome.code}: ${outcome.message}`);
  return outcome.principal;
}

function failure(outcome: AuthOutcome | AuthFailure | undefined, status: number, code: string): AuthFailure {
  assert.ok(outcome && !outcome.ok, 'expected a failure');
  assert.equal(outcome.status, status, outcome.message);
  assert.equal(outcome.code, code);
  return outcome;
}

const bearer = (token: string): IncomingHttpHeaders => ({ authorization: `Bearer ${token}` });

describe('Authenticator without auth', () => {
  it('is off, and every caller is the anonymous principal with every scope', async () => {
    for (const auth of [undefined, { keys: [] }]) {
      const authn = new Authenticator(auth, { resourceUrl: RESOURCE });
      assert.equal(authn.enabled, false);
      const p = principal(await authn.authenticate(bearer('whatever'), MCP));
      assert.equal(p.kind, 'anonymous');
      assert.equal(p.agentId, 'anonymous');
      assert.deepEqual([...p.scopes].sort(), ['admin', 'call', 'read']);
      assert.equal(authn.require(p, 'admin'), undefined);
      assert.equal(authn.protectedResourceMetadata(), undefined);
      assert.equal(authn.resourceMetadataUrl, undefined);
    }
  });

  it('still refuses a key in the query string', async () => {
    const authn = new Authenticator(undefined, { resourceUrl: RESOURCE });
    failure(await authn.authenticate({}, new URL('/mcp?api_key=abc', RESOURCE)), 400, 'key_in_query');
  });
});

describe('Authenticator with API keys', () => {
  const authn = new Authenticator({ keys: KEYS }, { resourceUrl: RESOURCE });

  it('a plain key as Bearer: the key name, acting as itself, with its scopes', async () => {
    assert.equal(authn.enabled, true);
    const p = principal(await authn.authenticate(bearer(CI_KEY), MCP));
    assert.deepEqual(
      { ...p, scopes: [...p.scopes] },
      { name: 'ci', agentId: 'ci', scopes: ['read', 'call'], kind: 'key' },
    );
    principal(await authn.authenticate({ authorization: `bearer  ${CI_KEY} ` }, MCP));
  });

  it('a hashed key as X-API-Key: acting as its agent', async () => {
    const p = principal(await authn.authenticate({ 'x-api-key': OPS_KEY }, MCP));
    assert.equal(p.name, 'ops');
    assert.equal(p.agentId, 'ops-bot');
    assert.deepEqual([...p.scopes], ['read', 'call', 'admin']);
    // The hash itself is not a key.
    failure(await authn.authenticate(bearer(sha256(OPS_KEY)), MCP), 401, 'invalid_token');
  });

  it('no credentials: 401 unauthorized with a bare Bearer challenge', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { 'x-api-key': '  ' }]) {
      const f = failure(await authn.authenticate(headers, MCP), 401, 'unauthorized');
      assert.deepEqual(f.headers, { 'WWW-Authenticate': 'Bearer realm="mcp-coordinator"' });
    }
  });

  it('a wrong key: 401 invalid_token, and the key is nowhere in the answer', async () => {
    const wrong = `${CI_KEY}x`;
    for (const headers of [bearer(wrong), { 'x-api-key': wrong }]) {
      const f = failure(await authn.authenticate(headers, MCP), 401, 'invalid_token');
      assert.equal(
        f.headers['WWW-Authenticate'],
        'Bearer realm="mcp-coordinator", error="invalid_token", error_description="the API key is not valid"',
      );
      assert.ok(!JSON.stringify(f).includes(wrong));
    }
  });

  it('malformed or conflicting credentials: 400 invalid_request', async () => {
    for (const headers of [
      { authorization: 'Bearer' },
      { authorization: 'Bearer two words' },
      { authorization: `Bearer ${CI_KEY}`, 'x-api-key': OPS_KEY },
      { 'x-api-key': [CI_KEY, OPS_KEY] as unknown as string },
    ]) {
      const f = failure(await authn.authenticate(headers, MCP), 400, 'invalid_request');
      assert.match(f.headers['WWW-Authenticate'] ?? '', /error="invalid_request"/);
      assert.ok(!JSON.stringify(f).includes(CI_KEY));
    }
    // The same key twice is one credential.
    principal(await authn.authenticate({ authorization: `Bearer ${CI_KEY}`, 'x-api-key': CI_KEY }, MCP));
    // Another scheme next to X-API-Key (a proxy's Basic auth) does not hide the key.
    principal(await authn.authenticate({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': CI_KEY }, MCP));
  });

  it('a credential-named query parameter: 400 key_in_query naming it, never its value, even beside a good key', async () => {
    for (const param of [
      'key',
      'api_key',
      'apiKey',
      'API-KEY',
      'token',
      'access_token',
      'Access-Token',
      'x-api-key',
      'jwt',
    ]) {
      const url = new URL(`/mcp?x=1&${param}=s3cr3t-value`, RESOURCE);
      const f = failure(await authn.authenticate(bearer(CI_KEY), url), 400, 'key_in_query');
      assert.ok(f.message.includes(`"${param}"`), f.message);
      assert.ok(!JSON.stringify(f).includes('s3cr3t-value'));
    }
    // A value that merely says "token", or a name that merely contains it, is fine.
    principal(
      await authn.authenticate(bearer(CI_KEY), new URL('/api/tools?q=token&tokens_used=3', RESOURCE)),
    );
  });

  it('require: a 403 naming the missing scope, nothing when it is held', async () => {
    const viewer = principal(await authn.authenticate(bearer('viewer-key-000000000000'), MCP));
    assert.equal(authn.require(viewer, 'read'), undefined);
    const f = failure(authn.require(viewer, 'call'), 403, 'insufficient_scope');
    assert.equal(
      f.headers['WWW-Authenticate'],
      'Bearer realm="mcp-coordinator", error="insufficient_scope", error_description="the \\"call\\" scope is required", scope="call"',
    );
    assert.match(f.message, /"call".*viewer.*read/);
    // Scopes are literal: admin does not imply call.
    const adminOnly = new Authenticator(
      { keys: [{ name: 'a', key: 'admin-only-key-0000000', scopes: ['admin'] }] },
      { resourceUrl: RESOURCE },
    );
    const a = principal(await adminOnly.authenticate(bearer('admin-only-key-0000000'), MCP));
    failure(adminOnly.require(a, 'call'), 403, 'insufficient_scope');
  });

  it('a keyHash that slipped past the schema is refused at start, not at the first request', () => {
    const bad = { keys: [{ name: 'short', keyHash: 'sha256:abcd', scopes: ['read' as const] }] };
    assert.throws(() => new Authenticator(bad, { resourceUrl: RESOURCE }), /"short" has a malformed keyHash/);
  });

  it('two entries with the same key: a warning, and the first listed wins', async () => {
    const lines: string[] = [];
    const twice = new Authenticator(
      {
        keys: [
          { name: 'first', key: CI_KEY, scopes: ['read'] },
          { name: 'second', keyHash: sha256(CI_KEY), scopes: ['admin'] },
        ],
      },
      { resourceUrl: RESOURCE, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) },
    );
    assert.match(lines.join(''), /same key.*"first".*"second"/);
    assert.equal(principal(await twice.authenticate(bearer(CI_KEY), MCP)).name, 'first');
  });
});

describe('Authenticator with OAuth (in-memory issuer, manual clock)', async () => {
  const clock = new ManualClock();
  const idp = await memoryIssuer();
  const authn = new Authenticator(
    { keys: KEYS, oauth: { issuer: idp.issuer, audience: 'mcp-coordinator' } },
    { resourceUrl: RESOURCE, fetch: idp.fetch, now: () => clock.now() },
  );
  const METADATA = 'resource_metadata="http://127.0.0.1:8766/.well-known/oauth-protected-resource/mcp"';
  const token = (o: Partial<Parameters<typeof idp.sign>[0]> = {}) =>
    idp.sign({ nowMs: clock.now(), sub: 'alice', aud: 'mcp-coordinator', scope: 'mcp:read mcp:call', ...o });

  it('a valid token: the subject acts as itself with the scopes it carries', async () => {
    const p = principal(await authn.authenticate(bearer(await token()), MCP));
    assert.deepEqual(
      { ...p, scopes: [...p.scopes] },
      { name: 'alice', agentId: 'alice', scopes: ['read', 'call'], kind: 'oauth' },
    );
    // Keys keep working beside OAuth.
    assert.equal(principal(await authn.authenticate(bearer(CI_KEY), MCP)).name, 'ci');
  });

  it('challenges name the metadata document (RFC 9728 §5.1)', async () => {
    const missing = failure(await authn.authenticate({}, MCP), 401, 'unauthorized');
    assert.equal(missing.headers['WWW-Authenticate'], `Bearer realm="mcp-coordinator", ${METADATA}`);
    const unknown = failure(
      await authn.authenticate(bearer('not-a-key-nor-a-jwt'), MCP),
      401,
      'invalid_token',
    );
    assert.match(unknown.headers['WWW-Authenticate'] ?? '', new RegExp(`error="invalid_token".*${METADATA}`));
  });

  it('refuses expired, early, foreign-audience, foreign-issuer and foreign-key tokens with a reason', async () => {
    const cases: [string, Promise<string>, RegExp][] = [
      ['expired', token({ expiresIn: -120 }), /expired/],
      ['not yet valid', token({ nbf: 600 }), /not valid yet/],
      ['audience', token({ aud: 'someone-else' }), /another audience/],
      ['issuer', token({ iss: 'https://evil.test' }), /another issuer/],
      ['signature', token({ foreign: true }), /signature does not verify/],
      ['unknown key', token({ foreign: true, kid: 'nobody' }), /key the issuer does not publish/],
      ['no subject', token({ sub: undefined }), /subject/],
    ];
    for (const [name, minted, reason] of cases) {
      const jwt = await minted;
      const f = failure(await authn.authenticate(bearer(jwt), MCP), 401, 'invalid_token');
      const challenge = f.headers['WWW-Authenticate'] ?? '';
      assert.match(
        challenge,
        /^Bearer realm="mcp-coordinator", error="invalid_token", error_description="/,
        name,
      );
      assert.match(challenge, reason, name);
      assert.ok(challenge.endsWith(METADATA), name);
      assert.ok(!JSON.stringify(f).includes(jwt), `${name}: the token is not echoed`);
    }
  });

  it('honours exp with a small tolerance, also for a cached verdict', async () => {
    const jwt = await token({ expiresIn: 100 });
    principal(await authn.authenticate(bearer(jwt), MCP));
    await clock.advance(90_000);
    principal(await authn.authenticate(bearer(jwt), MCP));
    await clock.advance(20_000); // 10 s past exp: within the tolerance
    principal(await authn.authenticate(bearer(jwt), MCP));
    await clock.advance(25_000); // 35 s past exp
    assert.match(
      failure(await authn.authenticate(bearer(jwt), MCP), 401, 'invalid_token').message,
      /expired/,
    );
  });

  it('require for a token principal asks for the mcp: spelling and names the metadata', async () => {
    const p = principal(await authn.authenticate(bearer(await token({ scope: 'mcp:read' })), MCP));
    const f = failure(authn.require(p, 'admin'), 403, 'insufficient_scope');
    assert.match(
      f.headers['WWW-Authenticate'] ?? '',
      new RegExp(`error="insufficient_scope".*scope="mcp:admin", ${METADATA}`),
    );
  });

  it('serves the protected resource metadata', () => {
    assert.deepEqual(authn.protectedResourceMetadata(), {
      resource: RESOURCE,
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:call', 'mcp:admin'],
      resource_name: 'mcp-coordinator',
    });
    assert.equal(authn.resourceMetadataUrl, 'http://127.0.0.1:8766/.well-known/oauth-protected-resource/mcp');
  });

  it('an issuer that cannot be reached: 503 auth_unavailable with Retry-After, not invalid_token', async () => {
    const down = await memoryIssuer('https://down.test', 'down');
    const lines: string[] = [];
    const a = new Authenticator(
      { keys: [], oauth: { issuer: down.issuer, audience: 'mcp-coordinator' } },
      {
        resourceUrl: RESOURCE,
        fetch: down.fetch,
        now: () => clock.now(),
        logger: createLogger({ write: (l) => lines.push(l) }),
      },
    );
    const jwt = await down.sign({ nowMs: clock.now(), sub: 'bob', aud: 'mcp-coordinator' });
    const f = failure(await a.authenticate(bearer(jwt), MCP), 503, 'auth_unavailable');
    assert.deepEqual(f.headers, { 'Retry-After': '5' });
    assert.match(lines.join(''), /issuer is unavailable/);
    assert.ok(!lines.join('').includes(jwt));
  });
});
