/**
 * The dashboard at `/ui/`: the static assets `npm run build` puts in `dist/ui` (served from memory,
 * under a strict Content-Security-Policy: no inline script, nothing from elsewhere) and the session
 * routes of its sign-in — `GET /ui/session` (who am I, and the CSRF token), `POST /ui/session`
 * `{ key }` (sign in), `DELETE /ui/session` (sign out).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Principal } from './principal.js';
import { SCOPES } from './principal.js';
import { HttpError, sendJson } from './respond.js';
import type { Route } from './rest.js';
import { fromOwnPage, sessionCookie, SESSION_COOKIE, type UiSessions } from './ui-sessions.js';

export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

export interface UiRoutesOptions {
  sessions: UiSessions;
  authEnabled: boolean;
  /** Checks an API key (or token) as the face would in a header: the principal or the refusal. */
  authenticate(key: string): Promise<Principal | HttpError>;
  /** Where the built assets are (default: found next to the running bundle). */
  assetsDir?: string;
  /** Failed sign-ins allowed per client address and minute (default 10). */
  failuresPerMinute?: number;
}

interface Asset {
  body: Buffer;
  type: string;
}

/** `dist/ui` whether this code runs from `dist/main.js`, a chunk of it, or the sources (tsx). */
export function findAssetsDir(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [join(here, 'ui'), join(here, '..', 'ui'), join(here, '..', '..', 'dist', 'ui')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  );
}

function loadAssets(dir: string | undefined): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!dir) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}

export function uiRoutes(options: UiRoutesOptions): Route[] {
  const { sessions } = options;
  let assets: Map<string, Asset> | undefined;
  const failures = new Map<string, { count: number; since: number }>();
  const maxFailures = options.failuresPerMinute ?? 10;

  const serve = (name: string, res: Parameters<Route['handle']>[0]['res']) => {
    assets ??= loadAssets(options.assetsDir ?? findAssetsDir());
    const asset = assets.get(name);
    if (!asset) {
      const why = assets.size === 0 ? 'the dashboard is not built (npm run build)' : `no file ${name}`;
      throw new HttpError(404, 'not_found', why);
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'content-security-policy': UI_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    res.end(asset.body);
  };

  const tooManyFailures = (req: IncomingMessage): boolean => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const entry = failures.get(address);
    if (!entry || Date.now() - entry.since > 60_000) return false;
    return entry.count >= maxFailures;
  };
  const countFailure = (req: IncomingMessage) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const entry = failures.get(address);
    if (!entry || Date.now() - entry.since > 60_000) {
      if (failures.size > 10_000) failures.clear();
      failures.set(address, { count: 1, since: Date.now() });
    } else entry.count += 1;
  };
  const describe = (p: Principal, csrf: string) => ({
    authRequired: options.authEnabled,
    signedIn: true,
    name: p.name,
    agentId: p.agentId,
    scopes: SCOPES.filter((s) => p.scopes.has(s)),
    csrfToken: csrf,
  });

  return [
    {
      method: 'GET',
      path: '/ui',
      scope: undefined,
      summary: 'The dashboard (redirects to /ui/)',
      produces: 'text/html',
      handle: ({ res }) => {
        res.writeHead(308, { location: '/ui/', 'content-length': 0 });
        res.end();
      },
    },
    {
      method: 'GET',
      path: '/ui/',
      scope: undefined,
      summary: 'The dashboard',
      produces: 'text/html',
      handle: ({ res }) => serve('index.html', res),
    },
    {
      method: 'GET',
      path: '/ui/session',
      scope: undefined,
      summary: "The dashboard's session: who is signed in, its scopes and CSRF token",
      handle: ({ req, res }) => {
        if (!options.authEnabled) {
          const all: Principal = {
            name: 'anonymous',
            agentId: 'anonymous',
            scopes: new Set(SCOPES),
            kind: 'anonymous',
          };
          return sendJson(res, 200, describe(all, ''));
        }
        const session = fromOwnPage(req) ? sessions.lookup(req) : undefined;
        if (!session) return sendJson(res, 200, { authRequired: true, signedIn: false });
        sendJson(res, 200, describe(session.principal, session.csrf));
      },
    },
    {
      method: 'POST',
      path: '/ui/session',
      scope: undefined,
      summary: 'Sign in to the dashboard with an API key: { key } → an HttpOnly session cookie',
      handle: async ({ req, res, body }) => {
        if (!options.authEnabled)
          throw new HttpError(400, 'bad_request', 'no sign-in needed: http.auth is off');
        if (!fromOwnPage(req))
          throw new HttpError(403, 'origin_not_allowed', "sign in from the dashboard's own page");
        if (tooManyFailures(req)) {
          throw new HttpError(429, 'rate_limited', 'too many failed sign-ins; wait a minute', {
            'retry-after': '60',
          });
        }
        const key = (body() as { key?: unknown } | undefined)?.key;
        if (typeof key !== 'string' || key.trim() === '' || key.length > 4_096) {
          throw new HttpError(400, 'bad_request', 'key: an API key is required');
        }
        const principal = await options.authenticate(key.trim());
        if (principal instanceof HttpError) {
          countFailure(req);
          throw new HttpError(401, 'invalid_key', 'that key is not valid');
        }
        const previous = sessions.lookup(req);
        if (previous) sessions.end(previous.id);
        const session = sessions.create(principal);
        const secure = req.headers['x-forwarded-proto'] === 'https';
        sendJson(res, 200, describe(principal, session.csrf), {
          'set-cookie': sessionCookie(session.id, Math.floor(sessions.ttlMs / 1000), secure),
        });
      },
    },
    {
      method: 'DELETE',
      path: '/ui/session',
      scope: undefined,
      summary: 'Sign out of the dashboard',
      handle: ({ req, res }) => {
        const session = sessions.lookup(req);
        if (session) {
          if (!fromOwnPage(req) || !sessions.csrfMatches(req, session)) {
            throw new HttpError(403, 'csrf', 'signing out needs the x-csrf-token header');
          }
          sessions.end(session.id);
        }
        sendJson(
          res,
          200,
          { signedIn: false },
          {
            'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
          },
        );
      },
    },
    {
      method: 'GET',
      path: '/ui/{file}',
      scope: undefined,
      summary: "The dashboard's assets",
      produces: 'text/plain',
      handle: ({ res, params }) => serve(params.file!, res),
    },
  ];
}
