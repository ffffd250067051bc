/**
 * The one redaction step: every error that reaches a client, every log line, health field and
 * event passes through `redact` before it leaves the process, so a credential that slipped into a
 * message (a URL with `user:password@`, an Authorization header, a token from `${VAR}`) is shown
 * as `***` instead.
 *
 * Two rules: patterns that are secret wherever they appear (URL userinfo, `Bearer`/`Basic`
 * credentials), and values marked secret by the config loader (header values, `${VAR}`
 * substitutions into credentials-bearing keys or from variables named like secrets). The marked
 * values live in one process-wide registry on purpose: errors are born everywhere (the SDK,
 * fetch, ioredis), and redaction must not depend on every path having been handed a redactor.
 */

export const REDACTED = '***';

/** `scheme://user:password@` or `scheme://token@` (userinfo of any URL). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
/** `Bearer <token>` (an Authorization header written out), not prose. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g;
/** `Basic <base64 of user:password>`: only when it decodes to that shape, so prose is kept. */
const BASIC = /\b(Basic\s+)([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/g;

/** Shorter values are not marked: redacting "1" or "dev" everywhere would garble every message. */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
/** Marked values, longest first (a secret that contains another is replaced whole). */
let ordered: string[] = [];

/** Marks a value as secret: from now on it never appears in a redacted text. */
export function markSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  ordered = [...secrets].sort((a, b) => b.length - a.length);
}

/** Forgets every marked value (tests; a library user reloading a different config). */
export function clearSecrets(): void {
  secrets.clear();
  ordered = [];
}

export function redact(text: string): string {
  let out = text
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(BASIC, (match, scheme: string, token: string) =>
      Buffer.from(token, 'base64').toString('latin1').includes(':') ? `${scheme}${REDACTED}` : match,
    );
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** `redact` over every string of a JSON-like value (event data, health); a copy when changed. */
export function redactValue<T>(value: T): T {
  return redactAny(value, 0) as T;
}

function redactAny(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = redactAny(item, depth + 1);
      changed ||= next !== item;
      return next;
    });
    return changed ? out : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const next = redactAny(item, depth + 1);
    changed ||= next !== item;
    out[key] = next;
  }
  return changed ? out : value;
}

/** Whether a URL carries userinfo (`user:password@`), which must never be configured. */
export function hasUserinfo(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}
