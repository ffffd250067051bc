/**
 * The upstream MCP server, one per client: the SDK's low-level Server with one handler per method
 * (downstream tools arrive as JSON Schema, so McpServer.registerTool is the wrong tool), built by
 * a factory for each connection in the era that connection opened with. Everything process-wide
 * comes from the core; everything about this client lives in its session.
 */
import { CLIENT_INFO_META_KEY, type Implementation, Server } from '@modelcontextprotocol/server';
import { OnDemandSchemaValidator } from '../shared/on-demand-validator.js';
import { MeasuredServer } from './measured-server.js';
import type { UpstreamCore } from './context.js';
import { registerCompletionHandler, registerLoggingHandlers } from './handlers/misc.js';
import { registerPromptHandlers } from './handlers/prompts.js';
import { registerResourceHandlers } from './handlers/resources.js';
import { registerToolHandlers } from './handlers/tools.js';
import { type SessionEra, UpstreamSession } from './session.js';

export const SERVER_INFO = { name: 'mcp-coordinator', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'mcp-coordinator: tools, prompts and resources of several MCP servers under namespaces ' +
  '(<server>__<name>), plus coordinator__* tools for routing, health, file locks and tasks.';

export interface SessionFactoryOptions {
  core: UpstreamCore;
  /** Unique per process; the session's number is appended. */
  idPrefix: string;
  /**
   * The owner token of the sessions that are their own caller (stdio: one per process), see
   * SessionIdentity.owner; a stateless face's sessions (given a `caller`) have none.
   */
  owner?: string;
  /** The agent of a client that said who it is (legacy: initialize; modern: its first request). */
  agentIdFor(clientInfo: Implementation | undefined): string;
  /** A client said who it is: register it as an agent. */
  onIdentified?(session: UpstreamSession, clientInfo: Implementation | undefined): void;
  onClosed?(session: UpstreamSession): void;
}

export interface SessionBinding {
  /** The principal a stateless face serves (default: this session alone). */
  caller?: string;
  /** Who the client acts as, once it said who it is (default: the factory's `agentIdFor`). */
  agentIdFor?(clientInfo: Implementation | undefined): string;
  /**
   * A per-request instance of a stateless face (or a listen watcher): it takes no part in the
   * list_changed fan-out, which the face publishes to its listen streams itself.
   */
  ephemeral?: boolean;
}

/** Builds the server (and session) for one connection of either era. */
export function sessionFactory(
  options: SessionFactoryOptions,
): (era: SessionEra, binding?: SessionBinding) => UpstreamSession {
  let seq = 0;
  return (era, binding = {}) => {
    const { core } = options;
    const id = `${options.idPrefix}:${++seq}`;
    const caller = binding.caller ?? id;
    const serverOptions: ConstructorParameters<typeof Server>[1] = {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        logging: {},
        completions: {},
      },
      // Ajv is built only if an elicitation result is ever checked (saves ~50 ms of start-up).
      jsonSchemaValidator: new OnDemandSchemaValidator(),
      instructions: INSTRUCTIONS,
      // Sealed by this coordinator and bound to this client: anything else is -32602, at the seam.
      requestState: { verify: (state) => core.sealer.open(state, caller) },
    };
    const observe = core.observeOperation;
    const server = observe
      ? new MeasuredServer(observe, SERVER_INFO, serverOptions)
      : new Server(SERVER_INFO, serverOptions);
    const agentIdFor = binding.agentIdFor ?? options.agentIdFor;
    const owner = binding.caller === undefined ? options.owner : undefined;
    const session = new UpstreamSession(
      {
        id,
        caller,
        era,
        agentId: agentIdFor(undefined),
        ...(owner !== undefined && { owner }),
        ephemeral: binding.ephemeral === true,
      },
      server,
    );
    const up = { ...core, session };
    registerToolHandlers(up);
    registerPromptHandlers(up);
    registerResourceHandlers(up);
    registerCompletionHandler(up);
    registerLoggingHandlers(up);
    if (era === 'legacy') {
      server.oninitialized = () => {
        session.ready = true;
        const info = server.getClientVersion();
        session.identity.agentId = agentIdFor(info);
        options.onIdentified?.(session, info);
      };
    } else {
      session.ready = true;
      let identified = false;
      // A modern client says who it is on each request; the first one names the agent.
      const identify = (envelope: Record<string, unknown> | undefined) => {
        if (identified) return;
        identified = true;
        const info = envelope?.[CLIENT_INFO_META_KEY] as Implementation | undefined;
        session.identity.agentId = agentIdFor(info);
        options.onIdentified?.(session, info);
      };
      session.onFirstRequest = identify;
    }
    const previous = server.onclose;
    session.end = () => {
      if (session.isClosed) return;
      for (const cleanup of session.onClose.splice(0)) cleanup();
      core.hub.remove(session);
      options.onClosed?.(session);
    };
    server.onclose = () => {
      previous?.();
      session.end();
    };
    // An instance closed without ever being connected (the HTTP entry builds one for a listen
    // request only to read its capabilities) never fires onclose: closing ends the session too.
    const close = server.close.bind(server);
    server.close = async () => {
      try {
        await close();
      } finally {
        session.end();
      }
    };
    core.hub.add(session);
    return session;
  };
}
