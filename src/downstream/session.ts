/**
 * One connection to a downstream: a fresh transport and SDK Client, the era decision (probed,
 * pinned, or adopted from the warm catalog), the handlers that forward server→client requests and
 * notifications upward, and the drained catalog. It knows nothing about retries; when it dies it
 * says so once, through `closed`, and the supervisor decides.
 */
import {
  Client,
  type ClientCapabilities,
  type Implementation,
  type McpSubscription,
  type PriorDiscovery,
  ProtocolError,
  type Request,
  type SubscriptionFilter,
  type Transport,
  type VersionNegotiationOptions,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/schema.js';
import { bareMessage, TransportFailureError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { OnDemandSchemaValidator } from '../shared/on-demand-validator.js';
import { type CatalogList, drainList, drainSnapshot } from './catalog-drain.js';
import type * as Remote from './remote.js';
import type { DownstreamHooks, DownstreamSnapshot, Era, EraVerdict, TransportKind } from './types.js';
import { Coalescer } from './coalesce.js';

export const MODERN_VERSION = '2026-07-28';

/**
 * What the coordinator declares to every downstream. It can answer each of these for the client
 * whose call caused the request (see the upstream hub), so it declares them whatever the clients
 * of the moment support; a request the causing client cannot answer is refused with an error.
 */
export const DOWNSTREAM_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

export interface SessionOptions {
  serverId: string;
  kind: TransportKind;
  transport: Transport;
  clientInfo: Implementation;
  hooks: DownstreamHooks;
  logger: Logger;
  protocol: ServerConfig['protocol'];
  /** A verdict from an earlier connection or the warm catalog: no probe when set. */
  prior?: EraVerdict;
  /** Bound for the era probe, initialize and the first catalog drain. */
  connectTimeoutMs: number;
  /** Bound for list refreshes after list_changed. */
  timeoutMs: number;
  /** A list_changed refresh produced a new snapshot. */
  onCatalog: (snapshot: DownstreamSnapshot) => void;
}

/** The downstream said it was modern, then refused modern requests: retry it as legacy. */
export class EraMismatchError extends Error {}

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
  /** A flood of list_changed: one re-list in flight per list and one queued, never more. */
  private readonly refreshes = new Coalescer<CatalogList>((list) => this.refresh(list));
  /** list_changed that arrived while the first drain ran: refreshed once it is done. */
  private readonly dirty = new Set<CatalogList>();
  /** Remote sessions only: the SDK's HTTP error classes, loaded with the transport. */
  private remote: typeof Remote | undefined;
  /** Modern era: the open subscriptions/listen stream and the resource URIs it carries. */
  private listening: McpSubscription | undefined;
  private readonly resourceUris = new Set<string>();
  private relisten: Promise<void> = Promise.resolve();

  constructor(private readonly options: SessionOptions) {
    this.transport = options.transport;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.client = new Client(options.clientInfo, {
      capabilities: DOWNSTREAM_CAPABILITIES,
      jsonSchemaValidator: new OnDemandSchemaValidator(),
      versionNegotiation: negotiation(options.protocol, options.connectTimeoutMs),
      // input_required passes back to the coordinator, which bridges it to the calling client.
      inputRequired: { autoFulfill: false },
    });
    this.installHandlers();
  }

  get era(): Era {
    return this.client.getProtocolEra() ?? 'legacy';
  }

  /** Connect (probe, initialize) and drain the catalog; rejects (and closes) on any failure. */
  async open(): Promise<DownstreamSnapshot> {
    const requestOptions = { timeout: this.options.connectTimeoutMs };
    try {
      if (this.options.kind !== 'stdio') this.remote = await import('./remote.js');
      await this.client.connect(this.transport, { ...requestOptions, prior: priorDiscovery(this.options) });
      try {
        this.snapshot = await drainSnapshot(this.client, requestOptions);
      } catch (error) {
        // A server whose probe said modern but whose modern requests fail lied about its era.
        if (this.era === 'modern' && error instanceof ProtocolError && this.options.protocol === 'auto') {
          throw new EraMismatchError(
            `${this.options.serverId}: answered server/discover as ${MODERN_VERSION} but refused a modern request (${bareMessage(error)}); retrying it as legacy`,
          );
        }
        throw error;
      }
      this.snapshot = { ...this.snapshot, era: this.era, discover: this.client.getDiscoverResult() };
      if (this.era === 'modern') await this.listen();
    } catch (error) {
      await this.close();
      if (error instanceof EraMismatchError) throw error;
      throw this.lastError && !(error instanceof TransportFailureError) ? this.lastError : error;
    }
    for (const list of this.dirty) void this.refresh(list);
    this.dirty.clear();
    return this.snapshot;
  }

  /**
   * Resource update subscriptions: `resources/subscribe` on a legacy server; on a modern one the
   * URI joins the filter of its subscriptions/listen stream (opened anew).
   */
  async subscribe(uri: string, on: boolean, timeoutMs: number): Promise<void> {
    if (this.era === 'legacy') {
      if (on) await this.client.subscribeResource({ uri }, { timeout: timeoutMs });
      else await this.client.unsubscribeResource({ uri }, { timeout: timeoutMs });
      return;
    }
    if (on) this.resourceUris.add(uri);
    else this.resourceUris.delete(uri);
    await this.listen();
  }

  /** Idempotent; for stdio it resolves only once the child and its group are gone. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listening?.close().catch(() => {});
      await this.transport.close();
    })().catch((error: unknown) => {
      this.options.logger.debug('transport close failed', { error });
    });
    return this.closing;
  }

  /** (Re)open the modern listen stream with what the server offers and what clients watch. */
  private listen(): Promise<void> {
    this.relisten = this.relisten.then(async () => {
      if (this.closing) return;
      const caps = this.client.getServerCapabilities() ?? {};
      const filter: SubscriptionFilter = {
        ...(caps.tools?.listChanged && { toolsListChanged: true }),
        ...(caps.prompts?.listChanged && { promptsListChanged: true }),
        ...(caps.resources?.listChanged && { resourcesListChanged: true }),
        ...(this.resourceUris.size > 0 && { resourceSubscriptions: [...this.resourceUris] }),
      };
      const previous = this.listening;
      this.listening = undefined;
      await previous?.close().catch(() => {});
      if (Object.keys(filter).length === 0) return;
      this.listening = await this.client.listen(filter, { timeout: this.options.connectTimeoutMs });
    });
    return this.relisten;
  }

  private installHandlers(): void {
    const { client, options } = this;
    const { serverId, hooks } = options;
    // The answer comes from the calling client, whose SDK validated it; it passes through.
    const forward = (request: Request, signal: AbortSignal) =>
      hooks.onRequest(serverId, request, signal) as Promise<never>;
    client.setRequestHandler('sampling/createMessage', (request, ctx) => forward(request, ctx.mcpReq.signal));
    client.setRequestHandler('elicitation/create', (request, ctx) => forward(request, ctx.mcpReq.signal));
    client.setRequestHandler('roots/list', (request, ctx) => forward(request, ctx.mcpReq.signal));
    client.setNotificationHandler('notifications/tools/list_changed', () => this.refreshes.trigger('tools'));
    client.setNotificationHandler('notifications/prompts/list_changed', () =>
      this.refreshes.trigger('prompts'),
    );
    client.setNotificationHandler('notifications/resources/list_changed', () =>
      this.refreshes.trigger('resources'),
    );
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

/** `protocol:` → the SDK's negotiation mode. `auto` probes with server/discover first. */
function negotiation(
  protocol: ServerConfig['protocol'],
  timeoutMs: number,
): VersionNegotiationOptions | undefined {
  if (protocol === 'legacy') return undefined;
  if (protocol === 'modern') return { mode: { pin: MODERN_VERSION } };
  // On stdio a silent server is a legacy one: wait for the probe's answer only so long.
  return { mode: 'auto', probe: { timeoutMs: Math.min(timeoutMs, 5_000) } };
}

function priorDiscovery(options: SessionOptions): PriorDiscovery | undefined {
  const prior = options.prior;
  if (!prior || options.protocol === 'legacy') return undefined;
  if (prior.era === 'legacy') return options.protocol === 'auto' ? { kind: 'legacy' } : undefined;
  return prior.discover ? { kind: 'modern', discover: prior.discover } : undefined;
}

/** The message, plus the socket error that undici hides behind "fetch failed". */
export function describeError(error: unknown): string {
  // The era probe is how every connection opens: its wrapper says nothing the cause does not.
  let message = bareMessage(error).replace(/^Version negotiation probe failed: /, '');
  let cause = error instanceof Error ? error.cause : undefined;
  // undici's 'fetch failed' and the SDK's wrappers keep the socket error in the cause chain.
  for (let depth = 0; cause instanceof Error && depth < 3; depth++, cause = cause.cause) {
    const inner = bareMessage(cause);
    if (inner && !message.includes(inner)) message = `${message}: ${inner}`;
  }
  return message;
}
