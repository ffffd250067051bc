/**
 * Who is calling the HTTP face. Credentials come from `Authorization: Bearer <x>` or
 * `X-API-Key: <x>`, never from the query string (URLs end up in logs, histories and Referer
 * headers): a credential-named query parameter is refused before anything else is looked at.
 *
 * An API key is compared as its SHA-256 against every configured key's SHA-256 with
 * `timingSafeEqual`, all of them every time, so neither the time taken nor an early exit tells
 * which key came close. A bearer that is no key and looks like a JWT goes to the OAuth verifier
 * when `http.auth.oauth` is set. Failures carry the RFC 6750 challenge (with RFC 9728's
 * `resource_metadata` under OAuth) and never the credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { looksLikeJwt, OAuthVerifier } from './oauth.js';
import { anonymousPrincipal, oauthScopeName, type Principal, type Scope, SCOPES } from './principal.js';

import { isCredentialParam } from './credential-params.js';

export { anonymousPrincipal, type Principal, type Scope, SCOPES } from './principal.js';

export type AuthFailure = {
  ok: false;
  /** 503: OAuth is configured but the issuer's keys cannot be fetched, so no token can be judged. */
  status: 400 | 401 | 403 | 503;
  code: string;
  message: string;
  headers: Record<string, string>;
};
export type AuthOutcome = { ok: true; principal: Principal } | AuthFailure;

export interface AuthenticatorOptions {
  /** The MCP endpoint's public URL (`http://127.0.0.1:8766/mcp`): RFC 9728's `resource`. */
  resourceUrl: string;
  fetch?: typeof fetch;
  logger?: Logger;
  /** Epoch ms, for token expiry and the verdict cache (tests). */
  now?: () => number;
}

const REALM = 'mcp-coordinator';

/** Query parameter names (case-insensitive, `-`/`_` ignored) that look like a credential. */

interface KeyEntry {
  name: string;
  agentId: string;
  scopes: ReadonlySet<Scope>;
  digest: Buffer;
}

export class Authenticator {
  private readonly keys: KeyEntry[];
  private readonly oauth: OAuthVerifier | undefined;
  private readonly issuer: string | undefined;
  private readonly resourceUrl: string;
  /** Where the RFC 9728 document is, for the `resource_metadata` challenge parameter. */
  readonly resourceMetadataUrl: string | undefined;
  private readonly logger: Logger;

  constructor(auth: Config['http']['auth'], options: AuthenticatorOptions) {
    this.logger = options.logger ?? silentLogger;
    this.resourceUrl = new URL(options.resourceUrl).href;
    this.keys = (auth?.keys ?? []).map((key) => ({
      name: key.name,
      agentId: key.agent ?? key.name,
      scopes: new Set(key.scopes),
      digest: key.keyHash
        ? Buffer.from(key.keyHash.slice('sha256:'.length), 'hex')
        : createHash('sha256')
            .update(key.key ?? '', 'utf8')
            .digest(),
    }));
    const seen = new Map<string, string>();
    for (const key of this.keys) {
      // The schema allows only 64 hex digits; a shorter digest would make timingSafeEqual throw.
      if (key.digest.length !== 32) throw new Error(`http.auth.keys: "${key.name}" has a malformed keyHash`);
      const other = seen.get(key.digest.toString('hex'));
      if (other)
        this.logger.warn('two API keys are the same key; the first one listed wins', {
          first: other,
          second: key.name,
        });
      else seen.set(key.digest.toString('hex'), key.name);
    }
    if (auth?.oauth) {
      this.issuer = auth.oauth.issuer;
      this.oauth = new OAuthVerifier(auth.oauth, {
        fetch: options.fetch,
        logger: this.logger,
        now: options.now,
      });
      this.resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(this.resourceUrl));
    }
  }

  /** Whether any credential is asked for (keys or OAuth configured). */
  get enabled(): boolean {
    return this.keys.length > 0 || this.oauth !== undefined;
  }

  async authenticate(headers: IncomingHttpHeaders, url: URL): Promise<AuthOutcome> {
    for (const param of url.searchParams.keys()) {
      if (isCredentialParam(param)) {
        return this.fail(
          400,
          'key_in_query',
          `credentials are not accepted in the query string (parameter "${clip(param)}"); send them in an Authorization: Bearer or X-API-Key header`,
          {},
        );
      }
    }
    if (!this.enabled) return { ok: true, principal: anonymousPrincipal() };

    const presented = credentialFrom(headers);
    if (presented.kind === 'malformed') {
      return this.fail(400, 'invalid_request', presented.message, {
        error: 'invalid_request',
        error_description: presented.message,
      });
    }
    if (presented.kind === 'none') {
      return this.fail(401, 'unauthorized', presented.message, {});
    }
    const key = this.matchKey(presented.credential);
    if (key)
      return {
        ok: true,
        principal: { name: key.name, agentId: key.agentId, scopes: key.scopes, kind: 'key' },
      };

    if (this.oauth && looksLikeJwt(presented.credential)) {
      const verdict = await this.oauth.verify(presented.credential);
      if (verdict.ok) {
        const principal: Principal = {
          name: verdict.subject,
          agentId: verdict.subject,
          scopes: verdict.scopes,
          kind: 'oauth',
        };
        return { ok: true, principal };
      }
      if (verdict.unavailable) {
        const message = `the token could not be checked: ${verdict.description}`;
        return this.fail(503, 'auth_unavailable', message, {}, { 'Retry-After': '5' });
      }
      return this.fail(401, 'invalid_token', `invalid token: ${verdict.description}`, {
        error: 'invalid_token',
        error_description: verdict.description,
      });
    }
    const description = this.oauth ? 'the key or token is not valid' : 'the API key is not valid';
    return this.fail(401, 'invalid_token', description, {
      error: 'invalid_token',
      error_description: description,
    });
  }

  /** A 403 when the principal lacks `scope`, naming the scope to ask for. */
  require(principal: Principal, scope: Scope): AuthFailure | undefined {
    if (principal.scopes.has(scope)) return undefined;
    const wanted = principal.kind === 'oauth' ? oauthScopeName(scope) : scope;
    const holds = [...principal.scopes].join(', ') || 'none';
    const who = principal.kind === 'key' ? `the key "${principal.name}"` : 'the token';
    const message = `this needs the "${wanted}" scope; ${who} grants: ${holds}`;
    return this.fail(403, 'insufficient_scope', message, {
      error: 'insufficient_scope',
      error_description: `the "${wanted}" scope is required`,
      scope: wanted,
    });
  }

  /** The RFC 9728 document for `/.well-known/oauth-protected-resource[/mcp]`; only with OAuth. */
  protectedResourceMetadata(): Record<string, unknown> | undefined {
    if (!this.issuer) return undefined;
    return {
      resource: this.resourceUrl,
      authorization_servers: [this.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: SCOPES.map(oauthScopeName),
      resource_name: REALM,
    };
  }

  /** Every configured key is compared, whatever matched before: the time does not tell which. */
  private matchKey(credential: string): KeyEntry | undefined {
    const digest = createHash('sha256').update(credential, 'utf8').digest();
    let found: KeyEntry | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest) && !found) found = key;
    }
    return found;
  }

  private fail(
    status: AuthFailure['status'],
    code: string,
    message: string,
    challengeParams: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ): AuthFailure {
    this.logger.debug('HTTP request refused', { status, code });
    const headers: Record<string, string> = { ...extraHeaders };
    if (status === 401 || status === 403 || (status === 400 && challengeParams['error'])) {
      headers['WWW-Authenticate'] = challenge({
        realm: REALM,
        ...challengeParams,
        ...(this.resourceMetadataUrl ? { resource_metadata: this.resourceMetadataUrl } : {}),
      });
    }
    return { ok: false, status, code, message, headers };
  }
}

type Presented =
  | { kind: 'credential'; credential: string }
  | { kind: 'none'; message: string }
  | { kind: 'malformed'; message: string };

function credentialFrom(headers: IncomingHttpHeaders): Presented {
  const authorization = headers.authorization?.trim();
  const apiKeyHeader = headers['x-api-key'];
  if (Array.isArray(apiKeyHeader) && apiKeyHeader.length > 1) {
    return { kind: 'malformed', message: 'more than one X-API-Key header' };
  }
  const apiKey = (Array.isArray(apiKeyHeader) ? apiKeyHeader[0] : apiKeyHeader)?.trim() || undefined;
  let bearer: string | undefined;
  if (authorization && /^Bearer\b/i.test(authorization)) {
    const match = /^Bearer[ \t]+(\S+)$/i.exec(authorization);
    if (!match?.[1])
      return { kind: 'malformed', message: 'the Authorization header must be "Bearer <token>"' };
    bearer = match[1];
  } else if (authorization && !apiKey) {
    // Another scheme (Basic, Digest …): not ours, so no credential was given.
    return {
      kind: 'none',
      message: 'only Bearer credentials are accepted (Authorization: Bearer <key or token>, or X-API-Key)',
    };
  }
  if (bearer && apiKey && bearer !== apiKey) {
    return {
      kind: 'malformed',
      message: 'two different credentials (Authorization and X-API-Key); send one',
    };
  }
  const credential = bearer ?? apiKey;
  if (!credential) {
    return {
      kind: 'none',
      message: 'credentials required: Authorization: Bearer <key or token>, or X-API-Key: <key>',
    };
  }
  return { kind: 'credential', credential };
}

/** `Bearer realm="…", error="…"`: quoted-string values, with what could break the quoting taken out. */
function challenge(params: Record<string, string>): string {
  const pairs = Object.entries(params).map(
    ([name, value]) => `${name}="${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')}"`,
  );
  return `Bearer ${pairs.join(', ')}`;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
