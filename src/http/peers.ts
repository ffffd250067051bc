/**
 * Several `serve --http` instances behind one plain balancer. Modern requests are stateless and
 * need nothing here; two things live in one process only and must reach it wherever the request
 * lands:
 * - a legacy session: its id is `<tag>.<uuid>`, `<tag>` naming the instance that holds it;
 * - a modern call parked waiting for its client's input: its sealed `requestState` carries the
 *   tag of the instance holding the exchange (`{ k: 'x', i }`).
 * Every instance announces its reachable URL in an {@link InstanceRegistry} (Redis when the
 * instances share one; memory for a lone instance) and refreshes it on a heartbeat. A request for
 * another instance's session or exchange is forwarded there as it came (method, headers with the
 * credentials, body; the answer streamed back), marked so that it is never forwarded twice.
 * An owner that is unknown or does not answer: a session is "not found" (the client initializes
 * again), an exchange gets a clear error saying where it lives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestStateSealer, SealedState } from '../server/request-state.js';
import type { Logger } from '../shared/logger.js';
import { forwardRequest } from './forward.js';
import type { ParsedBody } from './mcp-endpoint.js';
import { sendJson } from './respond.js';

/** Names the instance that answered, on every response. */
export const INSTANCE_HEADER = 'x-mcp-coordinator-instance';
/** On a forwarded request: the instance that forwarded it (never forwarded again). */
export const FORWARDED_HEADER = 'x-mcp-coordinator-forwarded-by';
/** On a forwarded answer: the instance that received the request (the answer names its owner). */
export const VIA_HEADER = 'x-mcp-coordinator-via';

export const PEER_DEFAULTS = {
  /** How often an instance refreshes its registry entry. */
  heartbeatMs: 5_000,
  /** An entry not refreshed for this long is an instance that died without withdrawing. */
  staleAfterMs: 15_000,
  /** The connection to the owner must be made within this (a dead host: answered as unknown). */
  connectTimeoutMs: 3_000,
} as const;

/** Where the instances sharing a store can be reached. */
export interface InstanceRegistry {
  /** Announce this instance, or refresh its entry. */
  announce(tag: string, url: string): Promise<void>;
  /** A live instance's URL; undefined when unknown or not seen for too long. */
  locate(tag: string): Promise<string | undefined>;
  /** The live instances, by tag. */
  list(): Promise<Record<string, { url: string; seen: number }>>;
  withdraw(tag: string): Promise<void>;
  close(): Promise<void>;
}

/** A lone instance: it knows itself only, so every foreign tag is unknown. */
export class MemoryInstanceRegistry implements InstanceRegistry {
  private readonly entries = new Map<string, { url: string; seen: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  announce(tag: string, url: string): Promise<void> {
    this.entries.set(tag, { url, seen: this.now() });
    return Promise.resolve();
  }

  locate(tag: string): Promise<string | undefined> {
    return Promise.resolve(this.entries.get(tag)?.url);
  }

  list(): Promise<Record<string, { url: string; seen: number }>> {
    return Promise.resolve(Object.fromEntries(this.entries));
  }

  withdraw(tag: string): Promise<void> {
    this.entries.delete(tag);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface PeersOptions {
  /** This instance's tag (`App.instanceTag`). */
  tag: string;
  /** Opens sealed requestState (only to read the tag of a parked exchange). */
  sealer: RequestStateSealer;
  registry: InstanceRegistry;
  logger: Logger;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
}

/** One `/mcp` request as the face has it after its checks: the body read and parsed. */
export interface McpRequestAtFace {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path and query, as received. */
  url: URL;
  raw: Buffer | undefined;
  body: ParsedBody;
  /** `HttpCaller.key`: the caller a sealed state must have been minted for. */
  callerKey: string;
}

export class Peers {
  readonly tag: string;
  private url: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PeersOptions) {
    this.tag = options.tag;
  }

  /** Announce `url` (where the other instances reach this one) and keep it fresh. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.beat();
    this.heartbeat = setInterval(
      () => void this.beat(),
      this.options.heartbeatMs ?? PEER_DEFAULTS.heartbeatMs,
    );
    this.heartbeat.unref();
  }

  /** Withdraw first: from now on the others answer for our sessions as for unknown ones. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    await this.options.registry
      .withdraw(this.tag)
      .catch((error: unknown) => this.options.logger.debug('instance not withdrawn', { error }));
    await this.options.registry.close();
  }

  /**
   * A request that belongs to another instance is answered here (forwarded, or refused) and true
   * returned; false: this instance serves it (its own, an unknown session it answers 404 for, or
   * a requestState its handlers will judge).
   */
  async intercept(r: McpRequestAtFace): Promise<boolean> {
    const forwardedBy = header(r.req, FORWARDED_HEADER);
    const sessionId = header(r.req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const owner = tagOf(sessionId);
      if (owner === undefined || owner === this.tag || forwardedBy !== undefined) return false;
      const target = await this.locate(owner);
      // Unknown or gone: this instance's own "session not found" makes the client start over.
      return target !== undefined && (await this.forward(r, target, `a session of ${owner}`));
    }
    const owner = this.exchangeOwner(r);
    if (owner === undefined || owner === this.tag) return false;
    const target = forwardedBy === undefined ? await this.locate(owner) : undefined;
    if (target !== undefined && (await this.forward(r, target, 'an input_required retry'))) return true;
    const id = r.body.kind === 'json' ? (r.body.value as { id?: unknown }).id : undefined;
    sendJson(r.res, 200, {
      jsonrpc: '2.0',
      id: id ?? null,
      error: {
        code: -32602,
        message:
          `the exchange this requestState belongs to lives on another coordinator instance (${owner}), ` +
          'which this one cannot reach (no shared Redis, or that instance is gone); call again',
      },
    });
    return true;
  }

  /** The tag in a parked exchange's sealed state; cheap, and only when the body carries one. */
  private exchangeOwner(r: McpRequestAtFace): string | undefined {
    if (r.req.method !== 'POST' || r.body.kind !== 'json') return undefined;
    const params = (r.body.value as { params?: { requestState?: unknown } } | null)?.params;
    if (typeof params?.requestState !== 'string') return undefined;
    let state: SealedState;
    try {
      state = this.options.sealer.open(params.requestState, r.callerKey);
    } catch {
      return undefined; // forged, foreign or expired: the handler refuses it (-32602)
    }
    return state.k === 'x' ? state.i : undefined;
  }

  private async locate(tag: string): Promise<string | undefined> {
    try {
      return await this.options.registry.locate(tag);
    } catch (error) {
      this.options.logger.warn('instance registry unreachable', { error });
      return undefined;
    }
  }

  /**
   * A dashboard request whose session cookie names another instance (`owner`): forwarded there
   * and true returned; false when that instance is unknown or gone (this one answers: the
   * session is then as unknown here as an expired one, and the page signs in again), or the
   * request was forwarded already. A forward that fails once started is answered 503.
   */
  async forwardUiSession(
    r: Pick<McpRequestAtFace, 'req' | 'res' | 'url'>,
    owner: string,
    readBody: () => Promise<Buffer | undefined>,
  ): Promise<boolean> {
    if (header(r.req, FORWARDED_HEADER) !== undefined) return false;
    const target = await this.locate(owner);
    if (target === undefined) return false;
    const raw = await readBody();
    if (await this.forward({ ...r, raw }, target, `a dashboard session of ${owner}`)) return true;
    sendJson(r.res, 503, {
      error: {
        code: 'instance_unreachable',
        message: `the coordinator instance holding this dashboard session (${owner}) does not answer; try again, or sign in again`,
      },
    });
    return true;
  }

  private async forward(
    r: Pick<McpRequestAtFace, 'req' | 'res' | 'url' | 'raw'>,
    target: string,
    what: string,
  ): Promise<boolean> {
    // The target's origin with the request's path set on it, never resolved against it: a path
    // such as `//elsewhere/x` must not name another host.
    const to = new URL(target);
    to.pathname = r.url.pathname;
    to.search = r.url.search;
    this.options.logger.debug(`forwarding ${what} to its instance`, { to: to.origin });
    r.res.setHeader(VIA_HEADER, this.tag);
    const ok = await forwardRequest({
      req: r.req,
      res: r.res,
      target: to,
      body: r.raw,
      headers: { [FORWARDED_HEADER]: this.tag },
      connectTimeoutMs: this.options.connectTimeoutMs ?? PEER_DEFAULTS.connectTimeoutMs,
    });
    if (!ok) r.res.removeHeader(VIA_HEADER);
    if (!ok) this.options.logger.warn(`the instance holding ${what} did not answer`, { to: to.origin });
    return ok;
  }

  private async beat(): Promise<void> {
    if (this.closed || this.url === undefined) return;
    try {
      await this.options.registry.announce(this.tag, this.url);
    } catch (error) {
      this.options.logger.debug('instance heartbeat failed', { error });
    }
  }
}

/** `<tag>.<uuid>` → tag; undefined for ids of another shape. */
export function tagOf(sessionId: string): string | undefined {
  const dot = sessionId.indexOf('.');
  return dot > 0 ? sessionId.slice(0, dot) : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
