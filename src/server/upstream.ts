/**
 * The upstream MCP server the IDE talks to: the SDK's low-level Server with one handler per
 * method (downstream tools arrive as JSON Schema, so McpServer.registerTool is the wrong tool).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ResultSchema,
  type ClientCapabilities,
  type LoggingMessageNotification,
  type Notification,
  type Request,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamHooks } from '../downstream/types.js';
import type { Logger } from '../shared/logger.js';
import { OnDemandSchemaValidator } from '../shared/on-demand-validator.js';
import type { UpstreamContext } from './context.js';
import {
  registerCompletionHandler,
  registerLoggingHandlers,
  applyLogLevel,
  type LogLevelState,
} from './handlers/misc.js';
import { registerPromptHandlers } from './handlers/prompts.js';
import { Subscriptions, registerResourceHandlers } from './handlers/resources.js';
import { registerToolHandlers } from './handlers/tools.js';

export const SERVER_INFO = { name: 'mcp-coordinator', version: '0.1.0' } as const;

/**
 * Everything the coordinator itself answers. It serves merged lists (possibly empty), built-in
 * tools, forwards subscriptions and completions, and logs — so it declares these whatever its
 * downstreams turn out to offer; a method a downstream lacks is answered honestly (empty lists,
 * no completions) rather than hidden.
 */
export function createServer(): Server {
  return new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      logging: {},
      completions: {},
    },
    // Ajv is built only if an elicitation result is ever checked (saves ~50 ms of start-up).
    jsonSchemaValidator: new OnDemandSchemaValidator(),
    instructions:
      'mcp-coordinator: tools, prompts and resources of several MCP servers under namespaces ' +
      '(<server>__<name>), plus coordinator__* tools for routing, health, file locks and tasks.',
  });
}

/** Shared by the hooks (built before the pool) and the handlers (built after it). */
export class UpstreamSession {
  initialized = false;
  readonly subscriptions = new Subscriptions();
  readonly logLevel: LogLevelState = {};

  constructor(readonly server: Server) {
    const previous = server.oninitialized;
    server.oninitialized = () => {
      this.initialized = true;
      previous?.();
    };
  }
}

/** How downstreams reach the upstream client: its capabilities, its answers, its notifications. */
export function createDownstreamHooks(session: UpstreamSession, logger: Logger): DownstreamHooks {
  const { server, subscriptions } = session;
  return {
    clientCapabilities(): ClientCapabilities {
      const declared = server.getClientCapabilities() ?? {};
      // Declare downstream exactly what our own client can answer.
      return {
        ...(declared.sampling && { sampling: declared.sampling }),
        ...(declared.elicitation && { elicitation: declared.elicitation }),
        ...(declared.roots && { roots: { listChanged: true } }),
      };
    },
    onRequest(_serverId: string, request: Request, signal: AbortSignal): Promise<Result> {
      return server.request(request as never, ResultSchema, { signal });
    },
    onNotification(serverId: string, notification: Notification): void {
      if (!session.initialized) return;
      const forward = (n: Notification) =>
        server
          .notification(n as never)
          .catch((error) => logger.debug('notification not forwarded', { error }));
      if (notification.method === 'notifications/message') {
        const params = notification.params as LoggingMessageNotification['params'];
        const tagged = params.logger ? `${serverId}/${params.logger}` : serverId;
        void forward({
          method: notification.method,
          params: { ...params, logger: tagged, _meta: { ...params._meta, 'coordinator/server': serverId } },
        });
      } else if (notification.method === 'notifications/resources/updated') {
        const uri = String(notification.params?.uri);
        const exposed = subscriptions.exposed(serverId, uri) ?? uri;
        void forward({ method: notification.method, params: { ...notification.params, uri: exposed } });
      } else {
        logger.debug(`notification from ${serverId} not forwarded`, { method: notification.method });
      }
    },
  };
}

/** Register every upstream handler; returns what the app calls when a downstream connects. */
export function registerUpstreamHandlers(ctx: UpstreamContext, session: UpstreamSession) {
  const { server, logger } = ctx;
  registerToolHandlers(ctx);
  registerPromptHandlers(ctx);
  registerResourceHandlers(ctx, session.subscriptions);
  registerCompletionHandler(ctx);
  registerLoggingHandlers(ctx, session.logLevel);

  ctx.state.on('changed', (changes) => {
    if (!session.initialized) return;
    const send = (p: Promise<void>) => p.catch((error) => logger.debug('list_changed not sent', { error }));
    if (changes.tools) send(server.sendToolListChanged());
    if (changes.prompts) send(server.sendPromptListChanged());
    if (changes.resources) send(server.sendResourceListChanged());
  });

  return {
    onDownstreamConnected(id: string) {
      if (session.logLevel.level) void applyLogLevel(ctx, id, session.logLevel.level);
    },
  };
}
