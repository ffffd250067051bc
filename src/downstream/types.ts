/**
 * The contract between the downstream layer (transports, supervised connections, the pool)
 * and everything above it. The layer above never touches a transport or a child process.
 */
import type { Client } from '@modelcontextprotocol/client';
import type {
  DiscoverResult,
  Implementation,
  Notification,
  Prompt,
  Request,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Result,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/schema.js';

export type TransportKind = 'stdio' | 'streamable-http' | 'sse';

/**
 * idle: not started (lazy, or before start()); starting: spawning/connecting/initializing;
 * connected: initialized and catalog loaded; restarting: waiting out a backoff after a failure;
 * crash-loop: too many failures in a row, retried only slowly; stopped: stop() was called.
 */
export type DownstreamStatus = 'idle' | 'starting' | 'connected' | 'restarting' | 'crash-loop' | 'stopped';

/** legacy: the `initialize` handshake (revisions up to 2025-11-25); modern: 2026-07-28, stateless. */
export type Era = 'legacy' | 'modern';

/** A downstream's era as seen once, kept with the warm catalog so a warm start does not probe. */
export interface EraVerdict {
  era: Era;
  /** Modern only: the server's advertisement, adopted by the next connect without a probe. */
  discover?: DiscoverResult;
}

/** What a connected downstream offers, drained of pagination. */
export interface DownstreamSnapshot {
  era?: Era;
  discover?: DiscoverResult;
  /** Modern servers: the cache fields their lists carried (legacy servers give none). */
  cacheHints?: Partial<
    Record<'tools' | 'prompts' | 'resources', { ttlMs: number; cacheScope: 'public' | 'private' }>
  >;
  serverInfo: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string;
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
}

/** How the layer above answers what a downstream asks of its client. */
export interface DownstreamHooks {
  /** sampling/createMessage, elicitation/create, roots/list — forwarded to the upstream client. */
  onRequest(serverId: string, request: Request, signal: AbortSignal): Promise<Result>;
  /** Any notification other than progress and list_changed (those are handled inside). */
  onNotification(serverId: string, notification: Notification): void;
}

export interface DownstreamEvents {
  status: [status: DownstreamStatus, previous: DownstreamStatus];
  /** After the first connect and after every list_changed refresh. */
  catalog: [snapshot: DownstreamSnapshot];
}

export interface Downstream {
  readonly id: string;
  readonly config: ServerConfig;
  readonly transport: TransportKind;
  readonly status: DownstreamStatus;
  readonly restarts: number;
  readonly lastError: string | undefined;
  /** Last catalog seen (kept across restarts so lists stay answerable). */
  readonly snapshot: DownstreamSnapshot | undefined;
  /** Begin connecting now (idempotent). Lazy servers are started by the first whenReady. */
  start(): void;
  /**
   * The connected SDK client; waits while the server starts or restarts, bounded by timeoutMs.
   * Rejects with TransportFailureError when it cannot be reached in time or is stopped.
   */
  whenReady(timeoutMs: number): Promise<Client>;
  /** The era of the current (or last) connection, once known. */
  readonly era: Era | undefined;
  /** Why the era was decided as it was, when that is worth telling (e.g. a server that lied). */
  readonly eraNote: string | undefined;
  /** Subscribe to (or drop) resource updates of one URI, in the server's era. */
  subscribe(uri: string, on: boolean, timeoutMs: number): Promise<void>;
  /**
   * Liveness round trip (legacy: ping; modern: server/discover, since 2026-07-28 removed ping);
   * resolves with latency in ms, rejects with TransportFailureError.
   */
  ping(timeoutMs: number): Promise<number>;
  /** Close the session and make sure the child and its process group are gone. */
  stop(): Promise<void>;
  on<E extends keyof DownstreamEvents>(event: E, listener: (...args: DownstreamEvents[E]) => void): void;
  off<E extends keyof DownstreamEvents>(event: E, listener: (...args: DownstreamEvents[E]) => void): void;
}
