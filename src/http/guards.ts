/** The face's gate assembled from the config: Host/Origin, credentials, scopes, the rate limit. */
import type { Logger } from '../shared/logger.js';
import { Authenticator } from './auth.js';
import type { Guards, HttpConfig } from './face.js';
import { allowedHostsFor, checkHost, checkOrigin, selfOriginsFor, type OriginCheck } from './origin.js';
import { RateLimiter } from './rate-limit.js';
import { HttpError, sendJson } from './respond.js';
import type { ListenAddress } from './address.js';

export function httpGuards(
  http: HttpConfig,
  self: { origin: string; listen: ListenAddress },
  logger: Logger,
): Guards {
  const hosts = allowedHostsFor(self.listen.host, http.allowedHosts);
  const auth = new Authenticator(http.auth, { resourceUrl: `${self.origin}/mcp`, logger });
  const limiter = new RateLimiter(http.rateLimitPerMinute);
  const refusal = (check: OriginCheck) =>
    check.ok ? undefined : new HttpError(check.status, check.code, check.message);
  return {
    authEnabled: auth.enabled,
    checkHost: (host) => refusal(checkHost(host, hosts)),
    checkOrigin: (origin, host) =>
      refusal(
        checkOrigin(origin, {
          allowedOrigins: http.allowedOrigins,
          selfOrigins: selfOriginsFor(host ?? new URL(self.origin).host),
        }),
      ),
    async authenticate(req, url) {
      const outcome = await auth.authenticate(req.headers, url);
      if (outcome.ok) return outcome.principal;
      return new HttpError(outcome.status, outcome.code, outcome.message, outcome.headers);
    },
    require(principal, scope) {
      const denied = auth.require(principal, scope);
      return denied && new HttpError(denied.status, denied.code, denied.message, denied.headers);
    },
    rateLimit(key) {
      const decision = limiter.take(key);
      if (decision.ok) return undefined;
      return new HttpError(429, 'rate_limited', `over ${http.rateLimitPerMinute} requests a minute`, {
        'retry-after': String(decision.retryAfterSeconds),
      });
    },
    openRoutes() {
      const metadata = auth.protectedResourceMetadata();
      if (!metadata) return [];
      return [
        {
          method: 'GET',
          path: '/.well-known/oauth-protected-resource',
          scope: undefined,
          handle: ({ res }) => sendJson(res, 200, metadata),
        },
        {
          method: 'GET',
          path: '/.well-known/oauth-protected-resource/mcp',
          scope: undefined,
          handle: ({ res }) => sendJson(res, 200, metadata),
        },
      ];
    },
  };
}
