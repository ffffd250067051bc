/**
 * An OAuth issuer that lives in a fetch function: metadata, a JWKS and a signer, for unit tests
 * that want a manual clock (tokens are minted by that clock, not by wall time). The integration
 * test uses the real loopback issuer (test/fixtures/oauth-issuer.mjs) instead.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export type MetadataMode = 'oauth' | 'oidc' | 'none' | 'down' | 'wrong-issuer' | 'error';

export interface MemoryIssuer {
  issuer: string;
  fetch: typeof fetch;
  /** Every URL fetched, in order. */
  requests: string[];
  mode: MetadataMode;
  /** A token signed by this issuer's key; times in seconds relative to `nowMs`. */
  sign(options: TokenOptions): Promise<string>;
}

export interface TokenOptions {
  nowMs: number;
  sub?: string;
  aud?: string;
  iss?: string;
  scope?: string;
  claims?: JWTPayload;
  expiresIn?: number;
  nbf?: number;
  /** Sign with another key (same kid unless `kid` says otherwise). */
  foreign?: boolean;
  kid?: string;
}

export async function memoryIssuer(
  issuer = 'https://idp.test',
  mode: MetadataMode = 'oauth',
): Promise<MemoryIssuer> {
  const alg = 'ES256';
  const own = await generateKeyPair(alg);
  const other = await generateKeyPair(alg);
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(own.publicKey)), kid, alg, use: 'sig' }] };
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  const state: MemoryIssuer = {
    issuer,
    requests: [],
    mode,
    fetch: async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      state.requests.push(url);
      if (state.mode === 'down') throw new TypeError('fetch failed');
      if (state.mode === 'error') return json({ error: 'boom' }, 500);
      const { pathname } = new URL(url);
      const doc = {
        issuer: state.mode === 'wrong-issuer' ? 'https://other.test' : issuer,
        jwks_uri: `${issuer}/keys`,
      };
      if (
        pathname === '/.well-known/oauth-authorization-server' &&
        ['oauth', 'wrong-issuer'].includes(state.mode)
      ) {
        return json(doc);
      }
      if (pathname === '/.well-known/openid-configuration' && state.mode === 'oidc') return json(doc);
      if (pathname === '/keys' || (pathname === '/.well-known/jwks.json' && state.mode === 'none'))
        return json(jwks);
      return json({ error: 'not_found' }, 404);
    },
    async sign(o) {
      const now = Math.floor(o.nowMs / 1000);
      const jwt = new SignJWT({ ...(o.claims ?? {}), ...(o.scope !== undefined ? { scope: o.scope } : {}) })
        .setProtectedHeader({ alg, kid: o.kid ?? kid })
        .setIssuer(o.iss ?? issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.expiresIn ?? 300));
      if (o.sub !== undefined) jwt.setSubject(o.sub);
      if (o.aud !== undefined) jwt.setAudience(o.aud);
      if (o.nbf !== undefined) jwt.setNotBefore(now + o.nbf);
      return jwt.sign(o.foreign ? other.privateKey : own.privateKey);
    },
  };
  return state;
}
