/**
 * The dashboard's sign-in: an API key typed into the page is checked once (POST /ui/session) and
 * traded for a random session id in an HttpOnly, SameSite=Strict cookie; the key itself is never
 * kept — not here, not in the browser. The map id → principal is bounded (the oldest session goes
 * first) and every session expires.
 *
 * The cookie counts as credentials only for requests from the dashboard's own origin (a browser's
 * `Sec-Fetch-Site: same-origin`, or an `Origin` that is one of the server's own), never when the
 * request names a key itself, and — for anything but GET/HEAD — only with the session's CSRF token
 * in `x-csrf-token`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { selfOriginsFor } from './origin.js';
import type { Principal } from './principal.js';
import { HttpError } from './respond.js';

export const SESSION_COOKIE = 'mcpc_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface UiSessionOptions {
  /** A session lives this long after sign-in (default 8 h). */
  ttlMs?: number;
  /** At most this many sessions; signing in past it ends the oldest (default 1,000). */
  maxSessions?: number;
  /**
   * This instance's tag: session ids are `<tag>.<random>`, so that another instance behind the
   * same balancer can hand the session's requests to the one that holds it (see peers.ts).
   */
  tag?: string;
  /**
   * The instances' shared secret (coordination.secret): a tagged id also carries an HMAC of
   * itself, so that only ids an instance minted are ever forwarded to one (a made-up cookie is
   * answered here, as no session).
   */
  secret?: string;
  now?: () => number;
}

export interface UiSession {
  id: string;
  csrf: string;
  principal: Principal;
  expiresAt: number;
}

export class UiSessions {
  private readonly sessions = new Map<string, UiSession>();
  readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;
  private readonly tag: string | undefined;
  private readonly secret: string | undefined;

  constructor(options: UiSessionOptions = {}) {
    this.tag = options.tag;
    this.secret = options.secret;
    this.ttlMs = options.ttlMs ?? 8 * 3_600_000;
    this.max = options.maxSessions ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  create(principal: Principal): UiSession {
    this.sweep();
    while (this.sessions.size >= this.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const random = randomBytes(32).toString('base64url');
    const session: UiSession = {
      id: this.mint(random),
      csrf: randomBytes(32).toString('base64url'),
      principal,
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session the request's cookie names, whatever its origin (for /ui/session itself). */
  lookup(req: IncomingMessage): UiSession | undefined {
    const id = cookieOf(req.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /**
   * The face's cookie credentials: undefined when the request carries its own key or no session
   * (the face's usual authentication decides), the session's principal when it may act on it, a
   * refusal when it is a session request that lacks the CSRF token.
   */
  principalOf(req: IncomingMessage): Principal | HttpError | undefined {
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) return undefined;
    if (!fromOwnPage(req)) return undefined;
    const session = this.lookup(req);
    if (!session) return undefined;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && !this.csrfMatches(req, session)) {
      return new HttpError(
        403,
        'csrf',
        `a dashboard request that changes state needs the ${CSRF_HEADER} header`,
      );
    }
    return session.principal;
  }

  /**
   * The instance holding the session this request would act on, when that is another one: a
   * request from the dashboard's page, without a key of its own, whose cookie names a session
   * with another instance's tag. Undefined otherwise (this instance decides).
   */
  foreignOwner(req: IncomingMessage): string | undefined {
    if (this.tag === undefined || this.secret === undefined) return undefined;
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) return undefined;
    const id = cookieOf(req.headers.cookie, SESSION_COOKIE);
    if (id === undefined || id.length > 200 || !fromOwnPage(req)) return undefined;
    const [owner, random, mac] = id.split('.');
    if (!owner || !random || !mac || owner === this.tag) return undefined;
    const want = Buffer.from(this.mac(`${owner}.${random}`));
    const given = Buffer.from(mac);
    return given.length === want.length && timingSafeEqual(given, want) ? owner : undefined;
  }

  /** `<random>`, or `<tag>.<random>` and, with the secret, `.<hmac>` (see foreignOwner). */
  private mint(random: string): string {
    if (this.tag === undefined) return random;
    const id = `${this.tag}.${random}`;
    return this.secret === undefined ? id : `${id}.${this.mac(id)}`;
  }

  private mac(id: string): string {
    return createHmac('sha256', `mcp-coordinator/ui-session/${this.secret ?? ''}`)
      .update(id)
      .digest('base64url');
  }

  csrfMatches(req: IncomingMessage, session: UiSession): boolean {
    const raw = req.headers[CSRF_HEADER];
    const given = Buffer.from(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
    const want = Buffer.from(session.csrf);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/**
 * A request the dashboard's own page sent: the browser says `Sec-Fetch-Site: same-origin`, or its
 * `Origin` is one of this server's own. A page of another origin (even one in http.allowedOrigins,
 * even another port of localhost, which SameSite counts as the same site) never rides the cookie.
 */
export function fromOwnPage(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (site !== undefined && site !== 'same-origin') return false;
  if (origin !== undefined) return selfOriginsFor(req.headers.host ?? '').includes(origin);
  return site === 'same-origin';
}

export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return (
    `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}` +
    (secure ? '; Secure' : '')
  );
}
