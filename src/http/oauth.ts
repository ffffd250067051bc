/**
 * The OAuth resource-server half: a JWT access token is checked against the issuer's published
 * keys (signature, `iss`, `aud`, `exp`/`nbf` with a small clock tolerance, a subject). The key set
 * URL comes from `oauth.jwksUri`, else the issuer's metadata (RFC 8414, then OpenID discovery),
 * else `<issuer>/.well-known/jwks.json`; it is looked up on the first token, not at start-up, so
 * an issuer that is down then does not stop the coordinator.
 *
 * Verdicts on good tokens are cached (bounded, keyed by the token's SHA-256, never past `exp`
 * and at most a minute, so the key set is consulted again at that pace). Bad tokens are not
 * cached: a forger can mint endless distinct ones, and an entry per forgery would only evict
 * good ones.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { type Logger, silentLogger } from '../shared/logger.js';
import { type Scope, scopesFromClaims } from './principal.js';

export interface OAuthConfig {
  issuer: string;
  audience: string;
  jwksUri?: string;
}

export interface OAuthVerifierOptions {
  fetch?: typeof fetch;
  logger?: Logger;
  /** Epoch ms; the token's `exp`/`nbf` and the cache are judged by it. */
  now?: () => number;
}

export type TokenVerdict =
  | { ok: true; subject: string; scopes: ReadonlySet<Scope> }
  /** `unavailable`: the issuer's keys could not be had, so the token could not be judged. */
  | { ok: false; description: string; unavailable?: true };

/** Seconds either side of `exp` / `nbf` forgiven for clocks that disagree. */
export const CLOCK_TOLERANCE_SECONDS = 30;
const CACHE_MAX_ENTRIES = 1_000;
const CACHE_MAX_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed discovery, requests fail fast this long instead of each asking the issuer. */
const DISCOVERY_RETRY_MS = 5_000;
/** Asymmetric only: a JWKS never holds a shared secret, and `none` is never a signature. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const MAX_SUBJECT_LENGTH = 256;

/** Three base64url segments: the compact JWS form. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

class KeysUnavailable extends Error {}

interface CachedVerdict {
  subject: string;
  scopes: ReadonlySet<Scope>;
  validUntil: number;
}

export class OAuthVerifier {
  private readonly fetch: typeof fetch;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly issuers: string[];
  private readonly cache = new LRUCache<string, CachedVerdict>({ max: CACHE_MAX_ENTRIES });
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private discoveryFailedAt = -Infinity;
  private unavailableLoggedAt = -Infinity;

  constructor(
    private readonly config: OAuthConfig,
    options: OAuthVerifierOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? (() => Date.now());
    // `https://idp.example` and `https://idp.example/` name the same issuer; IdPs differ on which.
    const bare = config.issuer.replace(/\/+$/, '');
    this.issuers = [bare, `${bare}/`];
  }

  /** Good verdicts currently cached (at most 1,000). */
  get cachedVerdicts(): number {
    return this.cache.size;
  }

  async verify(token: string): Promise<TokenVerdict> {
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.validUntil > this.now())
      return { ok: true, subject: cached.subject, scopes: cached.scopes };
    if (cached) this.cache.delete(cacheKey);
    try {
      const { payload } = await jwtVerify(token, await this.keySet(), {
        issuer: this.issuers,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'sub'],
      });
      const subject = payload.sub ?? '';
      if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
        return { ok: false, description: 'the token has no usable subject' };
      }
      const scopes = scopesFromClaims(payload);
      const validUntil = Math.min((payload.exp ?? 0) * 1000, this.now() + CACHE_MAX_MS);
      if (validUntil > this.now()) this.cache.set(cacheKey, { subject, scopes, validUntil });
      return { ok: true, subject, scopes };
    } catch (error) {
      return this.refusal(error);
    }
  }

  /** The verifying key set, found once; a failed discovery is retried after a pause. */
  private keySet(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    if (this.now() - this.discoveryFailedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(new KeysUnavailable('discovery failed moments ago'));
    }
    const found = this.discoverJwksUri().then((uri) => {
      this.logger.debug('OAuth key set', { issuer: this.config.issuer, jwksUri: uri });
      const remote = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: FETCH_TIMEOUT_MS,
        [customFetch]: (url, init) => this.fetch(url, init),
      });
      // What the key set cannot fetch is the issuer's trouble, not the token's.
      const getKey: JWTVerifyGetKey = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (error) {
          if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
            throw error;
          if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
            throw error;
          throw new KeysUnavailable(`the key set at ${uri} could not be fetched`, { cause: error });
        }
      };
      return getKey;
    });
    this.keys = found;
    found.catch(() => {
      this.keys = undefined;
      this.discoveryFailedAt = this.now();
    });
    return found;
  }

  /**
   * `oauth.jwksUri`, else the `jwks_uri` of the first metadata document the issuer serves, else
   * `<issuer>/.well-known/jwks.json`. A document that is there but names another issuer, or an
   * issuer that cannot be reached, is an error (retried later), not a reason to guess.
   */
  private async discoverJwksUri(): Promise<string> {
    if (this.config.jwksUri) return this.config.jwksUri;
    for (const url of metadataUrls(this.config.issuer)) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
      } catch (error) {
        throw new KeysUnavailable(`${url} could not be fetched`, { cause: error });
      }
      if (response.status === 404 || response.status === 405 || response.status === 410) {
        await response.body?.cancel();
        continue;
      }
      if (!response.ok) throw new KeysUnavailable(`${url} answered ${response.status}`);
      const document = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      const issuer = typeof document?.['issuer'] === 'string' ? document['issuer'] : undefined;
      if (!issuer || !this.issuers.includes(issuer)) {
        throw new KeysUnavailable(`${url} names issuer ${JSON.stringify(issuer)}, not ${this.config.issuer}`);
      }
      const jwksUri = document?.['jwks_uri'];
      if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) {
        throw new KeysUnavailable(`${url} has no http(s) jwks_uri`);
      }
      return jwksUri;
    }
    return `${this.issuers[0]}/.well-known/jwks.json`;
  }

  private refusal(error: unknown): TokenVerdict {
    if (error instanceof KeysUnavailable) {
      // Once per pause, not once per request, while the issuer is down.
      if (this.now() - this.unavailableLoggedAt >= DISCOVERY_RETRY_MS) {
        this.unavailableLoggedAt = this.now();
        this.logger.warn('OAuth tokens cannot be verified: the issuer is unavailable', {
          issuer: this.config.issuer,
          error: error.message,
          cause: error.cause,
        });
      }
      return { ok: false, description: "the issuer's signing keys could not be fetched", unavailable: true };
    }
    this.logger.debug('OAuth token refused', { code: (error as { code?: string }).code });
    return { ok: false, description: describe(error) };
  }
}

/** A fixed sentence per failure: never the token, nor a claim value it carried. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'the token was issued by another issuer';
      case 'aud':
        return 'the token is meant for another audience';
      case 'nbf':
        return 'the token is not valid yet';
      case 'exp':
        return 'the token has no usable expiry';
      case 'sub':
        return 'the token has no subject';
      default:
        return `the token's ${error.claim} claim is not acceptable`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey)
    return 'the token is signed by a key the issuer does not publish';
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return "the token's key is ambiguous in the issuer's key set";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  return 'the token is malformed or not supported';
}

/**
 * Where an issuer's metadata may live, in the order MCP clients try: RFC 8414 (path inserted
 * after the host), then OpenID Connect Discovery (path inserted, then appended).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const root = url.origin;
  if (!path)
    return [`${root}/.well-known/oauth-authorization-server`, `${root}/.well-known/openid-configuration`];
  return [
    `${root}/.well-known/oauth-authorization-server${path}`,
    `${root}/.well-known/openid-configuration${path}`,
    `${root}${path}/.well-known/openid-configuration`,
  ];
}
