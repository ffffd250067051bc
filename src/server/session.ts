/**
 * One upstream client: its server instance (built by the factory), its era, its agent, what it
 * declared it can do, what it subscribed to, its log level. The process-wide parts (pool, catalog,
 * router, coordination) live in the core; everything here belongs to this client alone.
 */
import type { ClientCapabilities, JSONRPCMessage, LoggingLevel, Server } from '@modelcontextprotocol/server';
import type { ResourceRoute } from '../catalog/types.js';

export type SessionEra = 'legacy' | 'modern';

/** Upstream URIs the client subscribed to (legacy `resources/subscribe`), to map updates back. */
export class Subscriptions {
  private readonly byOrigin = new Map<string, string>();
  add(route: ResourceRoute, exposedUri: string): void {
    this.byOrigin.set(key(route.serverId, route.originalUri), exposedUri);
  }
  remove(route: ResourceRoute): void {
    this.byOrigin.delete(key(route.serverId, route.originalUri));
  }
  exposed(serverId: string, originalUri: string): string | undefined {
    return this.byOrigin.get(key(serverId, originalUri));
  }
  routes(): Array<{ serverId: string; originalUri: string }> {
    return [...this.byOrigin.keys()].map((k) => {
      const [serverId, originalUri] = k.split('\u0000') as [string, string];
      return { serverId, originalUri };
    });
  }
}
const key = (serverId: string, uri: string) => `${serverId}\u0000${uri}`;

export interface SessionIdentity {
  /** Unique in this process. */
  id: string;
  /**
   * Who the client is for requestState and parked exchanges: the connection on stdio (the session
   * id), the authenticated principal over stateless HTTP, where every request has a new session.
   */
  caller: string;
  era: SessionEra;
  /** $MCP_AGENT_ID, else derived from the client's name once known. */
  agentId: string;
  /**
   * The session part of the holder of the locks and claims this client takes (see
   * coordination/locks/types.ts): on stdio this process's owner token, so two windows started
   * with one MCP_AGENT_ID are two holders. Absent over HTTP, where the holder is the agent id
   * itself: a stateless request may reach any instance, and must release what an earlier request
   * of the same key locked.
   */
  owner?: string;
  /** A stateless face's per-request instance or a listen watcher (see SessionBinding). */
  ephemeral?: boolean;
}

export class UpstreamSession {
  readonly subscriptions = new Subscriptions();
  /** legacy: `logging/setLevel`; modern clients say it per request. */
  logLevel: LoggingLevel | undefined;
  /** legacy: after `notifications/initialized`; modern: from the first request. */
  ready = false;
  /** modern: called with the first request's envelope (to learn who the client is). */
  onFirstRequest: ((envelope: Record<string, unknown> | undefined) => void) | undefined;
  /** Run once when the client's connection ends. */
  readonly onClose: Array<() => void> = [];
  /** modern: sees every message the client sent, after the SDK (see listen-tap). */
  onIncoming: ((message: JSONRPCMessage) => void) | undefined;
  /**
   * Where this session's resource updates go instead of its server instance (a stateless face's
   * listen watcher publishes them to the face's listen streams).
   */
  resourceUpdated: ((uri: string) => void) | undefined;
  /** Ends the session: its cleanups run, the hub forgets it (idempotent; set by the factory). */
  end: () => void = () => {};
  /** modern: the capabilities of the latest request's envelope. */
  private envelopeCapabilities: ClientCapabilities | undefined;
  private closed = false;

  constructor(
    readonly identity: SessionIdentity,
    readonly server: Server,
  ) {}

  get id(): string {
    return this.identity.id;
  }
  get caller(): string {
    return this.identity.caller;
  }
  get era(): SessionEra {
    return this.identity.era;
  }
  get agentId(): string {
    return this.identity.agentId;
  }
  get owner(): string | undefined {
    return this.identity.owner;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** What this client declared: at `initialize` (legacy) or on its latest request (modern). */
  capabilities(): ClientCapabilities {
    if (this.era === 'legacy') return this.server.getClientCapabilities() ?? {};
    return this.envelopeCapabilities ?? {};
  }

  noteEnvelope(capabilities: ClientCapabilities | undefined, envelope?: Record<string, unknown>): void {
    const first = this.onFirstRequest;
    this.onFirstRequest = undefined;
    first?.(envelope);
    if (capabilities) this.envelopeCapabilities = capabilities;
    this.ready = true;
  }

  markClosed(): void {
    this.closed = true;
  }
}
