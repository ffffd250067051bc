import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { looksLikeJwt, metadataUrls, OAuthVerifier, type TokenVerdict } from '../../../src/http/oauth.js';
import { scopesFromClaims } from '../../../src/http/principal.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { type MetadataMode, memoryIssuer } from './memory-issuer.js';

const AUDIENCE = 'mcp-coordinator';

async function setup(mode: MetadataMode = 'oauth', jwksUri?: string) {
  const clock = new ManualClock();
  const idp = await memoryIssuer('https://idp.test', mode);
  const verifier = new OAuthVerifier(
    { issuer: idp.issuer, audience: AUDIENCE, ...(jwksUri ? { jwksUri } : {}) },
    { fetch: idp.fetch, now: () => clock.now() },
  );
  const token = (o: { sub?: string; scope?: string; expiresIn?: number } = {}) =>
    idp.sign({ nowMs: clock.now(), sub: 'alice', aud: AUDIENCE, ...o });
  return { clock, idp, verifier, token };
}

function ok(verdict: TokenVerdict): { subject: string; scopes: string[] } {
  if (!verdict.ok) assert.fail(`expected a good token: ${verdict.description}`);
  return { subject: verdict.subject, scopes: [...verdict.scopes] };
}

describe('scopesFromClaims', () => {
  it('reads scope and scp, in both spellings, ignoring the rest', () => {
    assert.deepEqual([...scopesFromClaims({ scope: 'openid mcp:read call profile' })], ['read', 'call']);
    assert.deepEqual([...scopesFromClaims({ scp: ['mcp:admin', 'User.Read'] })], ['admin']);
    assert.deepEqual([...scopesFromClaims({ scp: 'read  mcp:call' })], ['read', 'call']);
    assert.deepEqual([...scopesFromClaims({ scope: ['mcp:call'] })], ['call']);
    assert.deepEqual(
      [...scopesFromClaims({ scope: 'mcp:write mcp:readonly other:read' })],
      ['read'],
      'unknown only',
    );
  });

  it('a token with none of ours is read-only', () => {
    assert.deepEqual([...scopesFromClaims({})], ['read']);
    assert.deepEqual([...scopesFromClaims({ scope: 'openid email' })], ['read']);
    assert.deepEqual([...scopesFromClaims({ scope: 42 })], ['read']);
  });
});

describe('looksLikeJwt and metadataUrls', () => {
  it('three base64url segments, the last not empty (no unsigned tokens)', () => {
    assert.equal(looksLikeJwt('aGVhZA.cGF5bG9hZA.c2ln'), true);
    assert.equal(looksLikeJwt('aGVhZA.cGF5bG9hZA.'), false);
    assert.equal(looksLikeJwt('ci-key-0123456789abcdef'), false);
    assert.equal(looksLikeJwt('a.b.c.d.e'), false);
  });

  it('RFC 8414 then OpenID discovery, path-aware', () => {
    assert.deepEqual(metadataUrls('https://idp.test'), [
      'https://idp.test/.well-known/oauth-authorization-server',
      'https://idp.test/.well-known/openid-configuration',
    ]);
    assert.deepEqual(metadataUrls('https://idp.test/realms/dev/'), [
      'https://idp.test/.well-known/oauth-authorization-server/realms/dev',
      'https://idp.test/.well-known/openid-configuration/realms/dev',
      'https://idp.test/realms/dev/.well-known/openid-configuration',
    ]);
  });
});

describe('OAuthVerifier: where the keys come from', () => {
  it('RFC 8414 metadata first, looked up once for many tokens', async () => {
    const { idp, verifier, token } = await setup('oauth');
    assert.deepEqual(idp.requests, [], 'nothing is fetched before the first token');
    for (let i = 0; i < 3; i++) ok(await verifier.verify(await token({ sub: `agent-${i}` })));
    assert.deepEqual(idp.requests, [
      'https://idp.test/.well-known/oauth-authorization-server',
      'https://idp.test/keys',
    ]);
  });

  it('then OpenID configuration, then <issuer>/.well-known/jwks.json', async () => {
    const oidc = await setup('oidc');
    ok(await oidc.verifier.verify(await oidc.token()));
    assert.deepEqual(oidc.idp.requests, [
      'https://idp.test/.well-known/oauth-authorization-server',
      'https://idp.test/.well-known/openid-configuration',
      'https://idp.test/keys',
    ]);
    const none = await setup('none');
    ok(await none.verifier.verify(await none.token()));
    assert.equal(none.idp.requests.at(-1), 'https://idp.test/.well-known/jwks.json');
  });

  it('oauth.jwksUri, when given, is used as is', async () => {
    const { idp, verifier, token } = await setup('oauth', 'https://idp.test/keys');
    ok(await verifier.verify(await token()));
    assert.deepEqual(idp.requests, ['https://idp.test/keys']);
  });

  for (const mode of ['wrong-issuer', 'error', 'down'] as const) {
    it(`metadata that is ${mode}: unavailable, retried after a pause rather than per request`, async () => {
      const { clock, idp, verifier, token } = await setup(mode);
      const jwt = await token();
      const first = await verifier.verify(jwt);
      assert.deepEqual(first, {
        ok: false,
        description: "the issuer's signing keys could not be fetched",
        unavailable: true,
      });
      const asked = idp.requests.length;
      assert.ok(asked >= 1);
      assert.equal((await verifier.verify(jwt)).ok, false);
      assert.equal(idp.requests.length, asked, 'no new request within the pause');
      idp.mode = 'oauth';
      await clock.advance(5_000);
      ok(await verifier.verify(jwt));
    });
  }
});

describe('OAuthVerifier: verdicts', () => {
  it('caches good verdicts only, one per token, never past exp', async () => {
    const { clock, verifier, token } = await setup();
    const jwt = await token({ expiresIn: 20 });
    assert.deepEqual(ok(await verifier.verify(jwt)), { subject: 'alice', scopes: ['read'] });
    ok(await verifier.verify(jwt));
    assert.equal(verifier.cachedVerdicts, 1);
    assert.equal((await verifier.verify(await token({ sub: '' }))).ok, false);
    assert.equal((await verifier.verify('aGVhZA.cGF5bG9hZA.c2ln')).ok, false);
    assert.equal(verifier.cachedVerdicts, 1, 'bad tokens are not cached');
    await clock.advance(21_000); // past exp, inside the tolerance: verified again, not cached again
    ok(await verifier.verify(jwt));
    assert.equal(verifier.cachedVerdicts, 0);
  });

  it('refuses symmetric algorithms even under the issuer key id', async () => {
    const { clock, verifier, token } = await setup();
    ok(await verifier.verify(await token())); // the key set is loaded
    const now = Math.floor(clock.now() / 1000);
    const hs = await new SignJWT({ scope: 'mcp:admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.test')
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode('a shared secret that nobody published'));
    assert.deepEqual(await verifier.verify(hs), {
      ok: false,
      description: "the token's signing algorithm is not accepted",
    });
  });

  it('accepts the issuer with or without a trailing slash, and a subject of bounded length', async () => {
    const { clock, idp, verifier } = await setup();
    const sign = (o: { iss?: string; sub?: string }) =>
      idp.sign({ nowMs: clock.now(), sub: 'alice', aud: AUDIENCE, ...o });
    ok(await verifier.verify(await sign({ iss: 'https://idp.test/' })));
    assert.equal((await verifier.verify(await sign({ iss: 'https://idp.test.evil' }))).ok, false);
    assert.deepEqual(await verifier.verify(await sign({ sub: 'x'.repeat(257) })), {
      ok: false,
      description: 'the token has no usable subject',
    });
  });

  it('a token for several audiences passes when one is ours', async () => {
    const { clock, idp, verifier } = await setup();
    const multi = await idp.sign({
      nowMs: clock.now(),
      sub: 'carol',
      claims: { aud: ['other-api', AUDIENCE] },
    });
    assert.equal(ok(await verifier.verify(multi)).subject, 'carol');
    const theirs = await idp.sign({ nowMs: clock.now(), sub: 'carol', claims: { aud: ['other-api'] } });
    assert.deepEqual(await verifier.verify(theirs), {
      ok: false,
      description: 'the token is meant for another audience',
    });
  });
});
