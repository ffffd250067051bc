/**
 * Who a request acts as on the HTTP face, and what it may do. Scopes are literal, without
 * implication: `admin` does not include `call`, nor `call` `read` — a key lists what it grants
 * (the config's default is `[read, call]`), so what a key may do is what its line says.
 */
export type Scope = 'read' | 'call' | 'admin';

export const SCOPES: readonly Scope[] = ['read', 'call', 'admin'];

export interface Principal {
  /** The key's name, the token's subject, or `anonymous`: for logs, metrics and the rate limit. */
  name: string;
  /** The coordination agent this caller acts as (locks, tasks): one caller never acts as another. */
  agentId: string;
  scopes: ReadonlySet<Scope>;
  kind: 'key' | 'oauth' | 'anonymous';
}

/** Without `http.auth` (which the HTTP face allows on loopback only) the caller may do anything. */
export function anonymousPrincipal(): Principal {
  return { name: 'anonymous', agentId: 'anonymous', scopes: new Set(SCOPES), kind: 'anonymous' };
}

/** How a scope is written in OAuth tokens and advertised to clients (`mcp:read` …). */
export function oauthScopeName(scope: Scope): string {
  return `mcp:${scope}`;
}

/**
 * The scopes an access token grants, from its `scope` claim (RFC 8693/9068: one space-separated
 * string) or `scp` (string or array, as Entra ID and Okta write it). Both `read` and `mcp:read`
 * spellings count (an issuer may not let a resource own a bare name). Anything else is ignored.
 *
 * A token that grants none of ours gets `read` only: its audience is this coordinator (checked
 * before), so its issuer meant it for us, but anything that changes state needs a scope asked for
 * by name. Callers see the scope they lack in the 403's `WWW-Authenticate` and can step up.
 */
export function scopesFromClaims(payload: Record<string, unknown>): Set<Scope> {
  const words = [...claimWords(payload['scope']), ...claimWords(payload['scp'])];
  const scopes = new Set<Scope>();
  for (const word of words) {
    const name = word.startsWith('mcp:') ? word.slice(4) : word;
    if ((SCOPES as readonly string[]).includes(name)) scopes.add(name as Scope);
  }
  if (scopes.size === 0) scopes.add('read');
  return scopes;
}

function claimWords(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
