/**
 * Every connected upstream client, and what ties the downstreams to them: which client's call is
 * running on which downstream (so a downstream's sampling, elicitation or roots request goes to the
 * client whose call caused it, and is refused when that cannot be known), and the fan-out of
 * downstream notifications to the clients that want them, each in its own era.
 */
import type {
  LoggingLevel,
  LoggingMessageNotification,
  Notification,
  Request,
  Result,
  ServerContext,
} from '@modelcontextprotocol/server';
import { ProtocolError, ProtocolErrorCode, SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import type { Logger } from '../shared/logger.js';
import type { Exchange } from './exchange.js';
import type { UpstreamSession } from './session.js';
import { envelopeOf } from './context.js';
import { withoutMetaKeys } from '../shared/meta.js';

/** One upstream request being served (a call, a prompt, a read…) and how to reach its client. */
export interface CallOrigin {
  session: UpstreamSession;
  ctx: ServerContext;
  /** Modern sessions: where a downstream's questions are parked for the client's retry. */
  exchange?: Exchange<unknown>;
  /** Modern sessions: the request's own `logLevel` (absent: no log messages for it). */
  logLevel?: LoggingLevel;
}

const SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

export function levelPasses(level: LoggingLevel | undefined, threshold: LoggingLevel | undefined): boolean {
  if (!threshold) return false;
  return SEVERITY[level ?? 'info'] >= SEVERITY[threshold];
}

const CAPABILITY_OF: Record<string, 'sampling' | 'elicitation' | 'roots'> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

export class SessionHub {
  readonly sessions = new Set<UpstreamSession>();
  private readonly origins = new Map<string, Set<CallOrigin>>();

  constructor(private readonly logger: Logger) {}

  add(session: UpstreamSession): void {
    this.sessions.add(session);
  }

  remove(session: UpstreamSession): void {
    session.markClosed();
    this.sessions.delete(session);
  }

  /** Whether any client still watches updates of `uri` on `serverId`. */
  watches(serverId: string, uri: string): boolean {
    for (const session of this.sessions) if (session.subscriptions.exposed(serverId, uri)) return true;
    return false;
  }

  /** The most verbose log level any legacy client asked for (what downstreams are set to). */
  loudestLevel(): LoggingLevel | undefined {
    let loudest: LoggingLevel | undefined;
    for (const s of this.sessions) {
      if (s.logLevel && (!loudest || SEVERITY[s.logLevel] < SEVERITY[loudest])) loudest = s.logLevel;
    }
    return loudest;
  }

  /** While a request of `origin` runs on `serverId`; returns the undo. */
  track(serverId: string, origin: CallOrigin): () => void {
    let set = this.origins.get(serverId);
    if (!set) this.origins.set(serverId, (set = new Set()));
    set.add(origin);
    return () => {
      set.delete(origin);
      if (set.size === 0 && this.origins.get(serverId) === set) this.origins.delete(serverId);
    };
  }

  /** A downstream's server→client request, sent to the client whose call caused it. */
  async onDownstreamRequest(serverId: string, request: Request, signal: AbortSignal): Promise<Result> {
    const capability = CAPABILITY_OF[request.method];
    const origin = this.originOf(serverId);
    if (!origin) {
      // Outside any call (e.g. roots/list at start-up): only a lone legacy client can be meant.
      const only = this.sessions.size === 1 ? [...this.sessions][0] : undefined;
      if (only?.era === 'legacy' && only.ready && capability && only.capabilities()[capability]) {
        return only.server.request(request as never, { signal }) as Promise<Result>;
      }
      throw refusal(
        `${serverId} sent ${request.method}, but no single client's call can be said to have caused it`,
      );
    }
    const { session } = origin;
    // Modern clients declare capabilities per request: the causing request's own count.
    const declared =
      session.era === 'modern' ? (envelopeOf(origin.ctx).capabilities ?? {}) : session.capabilities();
    if (capability && !declared[capability]) {
      throw refusal(
        `the calling client did not declare the ${capability} capability (${serverId} sent ${request.method})`,
      );
    }
    if (session.era === 'legacy') {
      return origin.ctx.mcpReq.send(request as never, { signal }) as Promise<Result>;
    }
    if (!origin.exchange)
      throw refusal(`${request.method} from ${serverId} cannot be bridged for this request`);
    return origin.exchange.ask(request, signal);
  }

  /** Log messages and resource updates from a downstream, to each client that wants them. */
  onDownstreamNotification(
    serverId: string,
    notification: Notification,
    exposedUri: (session: UpstreamSession, uri: string) => string | undefined,
  ): void {
    if (notification.method === 'notifications/message') {
      const params = notification.params as LoggingMessageNotification['params'];
      const tagged = {
        method: notification.method,
        params: {
          ...params,
          logger: params.logger ? `${serverId}/${params.logger}` : serverId,
          _meta: { ...params._meta, 'coordinator/server': serverId },
        },
      };
      for (const session of this.sessions) {
        if (session.era === 'legacy' && session.ready && levelPasses(params.level, session.logLevel)) {
          this.send(session.server.notification(tagged as never));
        }
      }
      // Modern clients get a downstream's log lines only on their own requests that asked for them.
      for (const origin of this.origins.get(serverId) ?? []) {
        if (origin.session.era === 'modern' && levelPasses(params.level, origin.logLevel)) {
          this.send(origin.ctx.mcpReq.notify(tagged as never));
        }
      }
      return;
    }
    if (notification.method === 'notifications/resources/updated') {
      const uri = String(notification.params?.uri);
      // A face's listen streams share one publisher: each exposed URI is published to it once.
      const published = new Map<(uri: string) => void, Set<string>>();
      for (const session of this.sessions) {
        // A stateless face's per-request instance has no stream of its own to send an update on.
        if (session.identity.ephemeral && !session.resourceUpdated) continue;
        const exposed = exposedUri(session, uri);
        if (!exposed || !session.ready) continue;
        if (session.resourceUpdated) {
          const seen = published.get(session.resourceUpdated) ?? new Set<string>();
          published.set(session.resourceUpdated, seen);
          if (!seen.has(exposed)) {
            seen.add(exposed);
            session.resourceUpdated(exposed);
          }
          continue;
        }
        // A downstream's own listen stream id means nothing upstream (the client's stream has its own).
        this.send(
          session.server.sendResourceUpdated({
            ...withoutMetaKeys(notification.params ?? {}, (k) => k === SUBSCRIPTION_ID_META_KEY),
            uri: exposed,
          }),
        );
      }
      return;
    }
    this.logger.debug(`notification from ${serverId} not forwarded`, { method: notification.method });
  }

  /** The merged catalog changed: list_changed to legacy clients, to listen streams for modern ones. */
  onCatalogChanged(changes: { tools?: boolean; prompts?: boolean; resources?: boolean }): void {
    for (const session of this.sessions) {
      if (!session.ready || session.identity.ephemeral) continue;
      const { server } = session;
      if (changes.tools) this.send(server.sendToolListChanged());
      if (changes.prompts) this.send(server.sendPromptListChanged());
      if (changes.resources) this.send(server.sendResourceListChanged());
    }
  }

  /** The origin a downstream request belongs to, when exactly one can be meant. */
  private originOf(serverId: string): CallOrigin | undefined {
    const running = [...(this.origins.get(serverId) ?? [])];
    if (running.length === 1) return running[0];
    if (running.length === 0) return undefined;
    // Several calls on that server: fine for a legacy client that made them all (it is asked
    // directly, not through any one call); anything else would be a guess.
    const first = running[0]!;
    if (first.session.era === 'legacy' && running.every((o) => o.session === first.session)) return first;
    return undefined;
  }

  private send(promise: Promise<void>): void {
    promise.catch((error: unknown) => this.logger.debug('notification not sent', { error }));
  }
}

function refusal(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidRequest, message);
}
