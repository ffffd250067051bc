/**
 * The HTTP face (`serve --http`): one node:http server in front of the core. Every request passes
 * the same gate — Host and Origin (DNS rebinding), credentials (never from the query string), a
 * rate limit per caller, the route's scope, a bounded body — before `/mcp`, a REST route or a
 * stream sees it. Errors are JSON `{ error: { code, message } }` with a fitting status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';
import { isLoopback, originOf, type ListenAddress } from './address.js';
import { McpEndpoint, methodsOf, parseBody, type HttpCaller, type ParsedBody } from './mcp-endpoint.js';
import { HttpError, readBody, sendError, sendJson, toWebRequest, writeWebResponse } from './respond.js';
import { openApiDocument } from './openapi.js';
import { INSTANCE_HEADER, type Peers } from './peers.js';
import type { Principal, Scope } from './principal.js';
import { asHttpError, restRoutes, type Route } from './rest.js';

export type HttpConfig = Config['http'];

/** The checks in front of every route (see guards.ts). */
export interface Guards {
  /** Auth is configured (else: loopback only, every caller anonymous with every scope). */
  readonly authEnabled: boolean;
  checkHost(host: string | undefined): HttpError | undefined;
  /** `host`: the request's (already checked) Host, which names the coordinator's own pages. */
  checkOrigin(origin: string | undefined, host: string | undefined): HttpError | undefined;
  authenticate(req: IncomingMessage, url: URL): Promise<Principal | HttpError>;
  require(principal: Principal, scope: Scope): HttpError | undefined;
  rateLimit(key: string): HttpError | undefined;
  /** Extra open routes (e.g. the OAuth protected-resource metadata). */
  openRoutes(): Route[];
}

export interface HttpFaceOptions {
  app: App;
  http: HttpConfig;
  listen: ListenAddress;
  logger: Logger;
  version: string;
  guards: (self: { origin: string; listen: ListenAddress }) => Guards;
  /** More routes (streams, metrics, UI) mounted beside the REST ones. */
  extraRoutes?: (face: HttpFace) => Route[];
  /** Called once per answered request (metrics). */
  onAnswered?: (route: string, status: number) => void;
  /** The other instances sharing the store: another's legacy session or exchange is forwarded there. */
  peers?: Peers;
  /** The dashboard's cookie sessions: credentials for requests from its own page (see ui-sessions.ts). */
  sessions?: CookieCredentials;
}

/** Credentials a request carries besides its headers' key: a principal, a refusal, or none. */
export interface CookieCredentials {
  principalOf(req: IncomingMessage): Principal | HttpError | undefined;
  /** The other instance holding the session the request's cookie names, if it is another's. */
  foreignOwner?(req: IncomingMessage): string | undefined;
}

/** Response headers a browser page on an allowed origin may read. */
const EXPOSED_HEADERS =
  'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after, x-mcp-coordinator-instance';
/** Request headers such a page may send. */
const ALLOWED_HEADERS =
  'authorization, content-type, x-api-key, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id, x-csrf-token';

/**
 * What a `read`-scoped caller may send on `/mcp` (anything else needs `call`): listing, reading,
 * watching, and its own answers and notifications (no method of their own, or `notifications/*`).
 */
const READ_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'subscriptions/listen',
]);
const needsCall = (method: string) => !READ_METHODS.has(method) && !method.startsWith('notifications/');

export class HttpFace {
  readonly mcp: McpEndpoint;
  private readonly server: Server;
  private readonly routes = new Map<string, Route[]>();
  private guards!: Guards;
  private origin = '';
  /** Calls being answered (not streams): what a graceful shutdown waits for. */
  private readonly calls = new Set<ServerResponse>();
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: HttpFaceOptions) {
    const { app, http, logger } = options;
    this.mcp = new McpEndpoint({
      app,
      logger: logger.child('mcp'),
      maxSessions: http.maxSessions,
      sessionIdleMs: http.sessionIdleMs,
      maxBodyBytes: http.maxBodyBytes,
    });
    // Slow-loris: headers within 10 s, a whole request within 30 s (answers may stream longer),
    // checked every second (Node's default is every 30 s). Set at construction: Node reads them there.
    this.server = createServer(
      {
        connectionsCheckingInterval: 1_000,
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 5_000,
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const body = JSON.stringify({
        error: timeout
          ? { code: 'request_timeout', message: 'the request was not received in time' }
          : { code: 'bad_request', message: 'malformed HTTP request' },
      });
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
          () => socket.destroy(),
        );
      } else socket.destroy();
      logger.debug('http client error', { error: error.message });
    });
  }

  static async start(options: HttpFaceOptions): Promise<HttpFace> {
    const face = new HttpFace(options);
    await face.listen();
    return face;
  }

  /** The bound address (the port is real when 0 was asked for). */
  get address(): ListenAddress {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  get url(): string {
    return this.origin;
  }

  /**
   * Stop taking requests, let the calls in flight finish (at most `http.shutdownGraceMs`), then
   * end every stream and session. The core is closed by the caller.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.server.close();
      this.server.closeIdleConnections();
      const deadline = Date.now() + this.options.http.shutdownGraceMs;
      while (this.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await this.mcp.close();
      this.server.closeAllConnections();
    })();
    return this.closing;
  }

  private async listen(): Promise<void> {
    const { listen, logger } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(listen.port, listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = { host: listen.host, port: this.address.port };
    this.origin = originOf(bound);
    this.guards = this.options.guards({ origin: this.origin, listen: bound });
    if (!this.guards.authEnabled && !isLoopback(listen.host)) {
      this.server.close();
      throw new HttpError(
        500,
        'refused',
        `refusing to listen on ${listen.host} without http.auth: only loopback addresses are served ` +
          'without API keys or OAuth',
      );
    }
    const routes: Route[] = [
      ...restRoutes(this.options.app, this.options.version),
      ...this.guards.openRoutes(),
      ...(this.options.extraRoutes?.(this) ?? []),
    ];
    routes.push({
      method: 'GET',
      path: '/api/openapi.json',
      scope: 'read',
      summary: 'This description (OpenAPI 3.1)',
      handle: ({ res }) => sendJson(res, 200, openApiDocument(routes, this.options.version)),
    });
    for (const route of routes) {
      const list = this.routes.get(route.method) ?? [];
      list.push(route);
      this.routes.set(route.method, list);
    }
    logger.info(`serving MCP on ${this.origin}/mcp`);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let template = 'unmatched';
    res.once('finish', () => this.options.onAnswered?.(template, res.statusCode));
    res.setHeader(INSTANCE_HEADER, this.options.app.instanceTag);
    try {
      if (this.closing) throw new HttpError(503, 'shutting_down', 'the coordinator is shutting down');
      const url = parseUrl(req.url, this.origin);
      const g = this.guards;
      const origin = header(req, 'origin');
      const refused = g.checkHost(req.headers.host) ?? g.checkOrigin(origin, req.headers.host);
      if (refused) throw refused;
      // An origin that passed may read the answers (http.allowedOrigins, or the coordinator's own).
      if (origin) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
        res.setHeader('vary', 'Origin');
        if (req.method === 'OPTIONS') {
          // A preflight carries no credentials: it is answered before them.
          res.writeHead(204, {
            'access-control-allow-methods': 'GET, POST, DELETE',
            'access-control-allow-headers': ALLOWED_HEADERS,
            'access-control-max-age': '600',
          });
          res.end();
          return;
        }
      }
      if (url.pathname === '/mcp') {
        template = '/mcp';
        return await this.serveMcp(req, res, url);
      }
      const match = this.match(req.method ?? 'GET', url.pathname);
      template = match.route.path;
      const { route, params } = match;
      // A dashboard session lives in the instance that signed it in: behind a balancer, its
      // requests are handed to that one (a sign-in makes a session here, whatever the cookie).
      const owner = this.options.sessions?.foreignOwner?.(req);
      if (
        owner !== undefined &&
        this.options.peers &&
        (route.scope !== undefined || (route.path === '/ui/session' && req.method !== 'POST')) &&
        (await this.options.peers.forwardUiSession({ req, res, url }, owner, () =>
          req.method === 'POST' ? readBody(req, this.options.http.maxBodyBytes) : Promise.resolve(undefined),
        ))
      ) {
        return;
      }
      let agentId = 'anonymous';
      if (route.scope !== undefined) {
        const principal = await this.admit(req, url, route.scope);
        agentId = principal.agentId;
      }
      let body: ParsedBody = { kind: 'none' };
      if (req.method === 'POST') {
        // A call (or a restart) in flight: what a graceful shutdown waits for.
        this.calls.add(res);
        res.once('close', () => this.calls.delete(res));
        body = parseBody(await readBody(req, this.options.http.maxBodyBytes));
        if (body.kind === 'invalid') throw new HttpError(400, 'bad_json', 'the body is not valid JSON');
      }
      const parsed = body;
      await route.handle({
        req,
        res,
        url,
        params,
        agentId,
        body: () => (parsed.kind === 'json' ? parsed.value : undefined),
      });
    } catch (error) {
      const failure = asHttpError(error);
      if (failure.status >= 500 && failure.code === 'internal') {
        this.options.logger.error('http request failed', {
          path: req.url?.split('?')[0],
          error: failure.message,
        });
      }
      if (!res.headersSent) sendError(res, failure);
      else res.destroy();
    }
  }

  /** Credentials, rate limit and scope: the caller, or the refusal. */
  private async admit(req: IncomingMessage, url: URL, scope: Scope): Promise<Principal> {
    const g = this.guards;
    const session = this.options.sessions?.principalOf(req);
    if (session instanceof HttpError) throw session;
    const principal = session ?? (await g.authenticate(req, url));
    if (principal instanceof HttpError) {
      // Guessing keys (or making the coordinator check forged tokens) is rate-limited too, per address.
      if (principal.status === 401) throw g.rateLimit(`failed:${req.socket.remoteAddress}`) ?? principal;
      throw principal;
    }
    const limited = g.rateLimit(
      principal.kind === 'anonymous'
        ? `addr:${req.socket.remoteAddress}`
        : `${principal.kind}:${principal.name}`,
    );
    if (limited) throw limited;
    const denied = g.require(principal, scope);
    if (denied) throw denied;
    return principal;
  }

  private async serveMcp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const principal = await this.admit(req, url, 'read');
    const method = req.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      throw new HttpError(405, 'method_not_allowed', `${method} /mcp: use POST, GET or DELETE`);
    }
    const raw = method === 'POST' ? await readBody(req, this.options.http.maxBodyBytes) : undefined;
    const body = parseBody(raw);
    const methods = body.kind === 'json' ? methodsOf(body.value) : [];
    if (methods.some(needsCall)) {
      const denied = this.guards.require(principal, 'call');
      if (denied) throw denied;
    }
    const isCall = method === 'POST' && !methods.includes('subscriptions/listen');
    if (isCall) {
      this.calls.add(res);
      res.once('close', () => this.calls.delete(res));
    }
    const caller: HttpCaller = {
      key:
        principal.kind === 'anonymous'
          ? `anonymous@${req.socket.remoteAddress}`
          : `${principal.kind}:${principal.name}`,
      ...(principal.kind !== 'anonymous' && { agentId: principal.agentId }),
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
    };
    if (await this.options.peers?.intercept({ req, res, url, raw, body, callerKey: caller.key })) return;
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const request = toWebRequest(req, url, raw, abort.signal);
    const response = await this.mcp.handle(request, body, caller);
    await writeWebResponse(res, response);
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } {
    let allowed = false;
    for (const [m, routes] of this.routes) {
      for (const route of routes) {
        const params = matchPath(route.path, path);
        if (!params) continue;
        if (m === method || (method === 'HEAD' && m === 'GET')) return { route, params };
        allowed = true;
      }
    }
    if (allowed) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
    throw new HttpError(404, 'not_found', `no route ${path}`);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseUrl(raw: string | undefined, origin: string): URL {
  // Only origin-form targets (`/path?query`): `//host/…` or `http://host/…` would name a host.
  if (raw !== undefined && (!raw.startsWith('/') || raw.startsWith('//'))) {
    throw new HttpError(400, 'bad_request', 'the request target must be a path (origin-form)');
  }
  try {
    return new URL(raw ?? '/', origin);
  } catch {
    throw new HttpError(400, 'bad_request', 'the request target is not a valid URL path');
  }
}

/** `/api/servers/{id}` against a path: the parameters, or undefined. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

export { sendJson };
