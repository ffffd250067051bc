/**
 * One connection to a downstream: a fresh transport and SDK Client, the handlers that forward
 * server→client requests and notifications upward, initialize, and the drained catalog. It knows
 * nothing about retries; when it dies it says so once, through `closed`, and the supervisor decides.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type Implementation,
  ListRootsRequestSchema,
  PromptListChangedNotificationSchema,
  type Request,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { bareMessage, TransportFailureError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { OnDemandSchemaValidator } from '../shared/on-demand-validator.js';
import { type CatalogList, drainList, drainSnapshot } from './catalog-drain.js';
import type * as Remote from './remote.js';
import type { DownstreamHooks, DownstreamSnapshot, TransportKind } from './types.js';

export interface SessionOptions {
  serverId: string;
  kind: TransportKind;
  transport: Transport;
  clientInfo: Implementation;
  hooks: DownstreamHooks;
  logger: Logger;
  /** Bound for initialize and for every list request. */
  timeoutMs: number;
  /** A list_changed refresh produced a new snapshot. */
  onCatalog: (snapshot: DownstreamSnapshot) => void;
}

export class DownstreamSession {
  readonly client: Client;
  readonly transport: Transport;
  snapshot: DownstreamSnapshot | undefined;
  /** Settles (never rejects) with why the connection ended, once. */
  readonly closed: Promise<TransportFailureError>;
  private resolveClosed!: (reason: TransportFailureError) => void;
  private lastError: TransportFailureError | undefined;
  private closing: Promise<void> | undefined;
  private readonly refreshSeq: Record<CatalogList, number> = { tools: 0, prompts: 0, resources: 0 };
  /** list_changed that arrived while the first drain ran: refreshed once it is done. */
  private readonly dirty = new Set<CatalogList>();
  /** Remote sessions only: the SDK's HTTP error classes, loaded with the transport. */
  private remote: typeof Remote | undefined;

  constructor(private readonly options: SessionOptions) {
    this.transport = options.transport;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const capabilities = options.hooks.clientCapabilities();
    this.client = new Client(options.clientInfo, {
      capabilities,
      jsonSchemaValidator: new OnDemandSchemaValidator(),
    });
    this.installHandlers(capabilities);
  }

  /** Initialize and drain the catalog; rejects (and closes) on any failure. */
  async open(): Promise<DownstreamSnapshot> {
    const requestOptions = { timeout: this.options.timeoutMs };
    try {
      if (this.options.kind !== 'stdio') this.remote = await import('./remote.js');
      await this.client.connect(this.transport, requestOptions);
      this.snapshot = await drainSnapshot(this.client, requestOptions);
    } catch (error) {
      await this.close();
      throw this.lastError && !(error instanceof TransportFailureError) ? this.lastError : error;
    }
    for (const list of this.dirty) void this.refresh(list);
    this.dirty.clear();
    return this.snapshot;
  }

  /** Idempotent; for stdio it resolves only once the child and its group are gone. */
  close(): Promise<void> {
    this.closing ??= this.transport.close().catch((error: unknown) => {
      this.options.logger.debug('transport close failed', { error });
    });
    return this.closing;
  }

  private installHandlers(capabilities: ReturnType<DownstreamHooks['clientCapabilities']>): void {
    const { client, options } = this;
    const { serverId, hooks } = options;
    const forward = (request: Request, extra: { signal: AbortSignal }) =>
      hooks.onRequest(serverId, request, extra.signal);
    // The SDK refuses handlers for capabilities we did not declare, and a server only sends these
    // requests to clients that declared them: register exactly what the upstream client offers.
    if (capabilities.sampling) client.setRequestHandler(CreateMessageRequestSchema, forward);
    if (capabilities.elicitation) client.setRequestHandler(ElicitRequestSchema, forward);
    if (capabilities.roots) client.setRequestHandler(ListRootsRequestSchema, forward);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refresh('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.refresh('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.refresh('resources'));
    client.fallbackNotificationHandler = async (notification) => hooks.onNotification(serverId, notification);
    client.onerror = (error) => this.onTransportError(error);
    client.onclose = () =>
      this.resolveClosed(
        this.lastError ?? new TransportFailureError(serverId, 'closed', `${serverId}: connection closed`),
      );
  }

  private async refresh(list: CatalogList): Promise<void> {
    if (!this.snapshot) {
      this.dirty.add(list);
      return;
    }
    // Two notifications in a row: only the drain that started last may write the snapshot.
    const seq = ++this.refreshSeq[list];
    try {
      const lists = await drainList(this.client, list, { timeout: this.options.timeoutMs });
      if (seq !== this.refreshSeq[list] || this.closing) return;
      this.snapshot = { ...this.snapshot, ...lists };
      this.options.onCatalog(this.snapshot);
    } catch (error) {
      this.options.logger.warn(`refreshing ${list} after list_changed failed`, { error: bareMessage(error) });
    }
  }

  private onTransportError(error: Error): void {
    const { serverId, logger } = this.options;
    if (error instanceof TransportFailureError) {
      this.lastError = error;
      logger.debug(error.message);
      return;
    }
    logger.debug('transport error', { error: error.message });
    // A stdio session ends when its child exits; a remote one has no such signal, so errors that
    // mean "the server or our session on it is gone" end it here and let the supervisor reconnect.
    if (this.remote?.isConnectionLost(error)) {
      this.lastError = new TransportFailureError(serverId, 'closed', `${serverId}: ${describeError(error)}`, {
        cause: error,
      });
      void this.close();
    }
  }
}

/** The message, plus the socket error that undici hides behind "fetch failed". */
export function describeError(error: unknown): string {
  const message = bareMessage(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (message === 'fetch failed' && cause instanceof Error) return `${message}: ${cause.message}`;
  return message;
}
