/**
 * The REST routes of the HTTP face. They are thin: every answer comes from the same operations
 * the built-in tools and the CLI use (the router's dispatch, `coordinator__health`,
 * `coordinator__servers`, the coordination tools), so there is no third copy of any of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../app.js';
import { dispatchToolCall } from '../server/handlers/tools.js';
import {
  AllCandidatesFailedError,
  CoordinationUnavailableError,
  InvalidArgumentError,
  MayHaveRunError,
  TransportFailureError,
  UnknownNameError,
} from '../shared/errors.js';
import { redact } from '../shared/redact.js';
import type { Scope } from './principal.js';
import { HttpError, sendJson } from './respond.js';

export interface RestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** The JSON body (POST), already size-checked and parsed. */
  body: () => unknown;
  /** The agent the caller acts as. */
  agentId: string;
}

export interface Route {
  method: 'GET' | 'POST';
  /** The path template (also the metrics label), e.g. `/api/servers/{id}`. */
  path: string;
  /** `undefined`: open to anyone (only `/health`, the OAuth metadata). */
  scope: Scope | undefined;
  /** One line for the OpenAPI description. */
  summary?: string;
  /** The JSON body it takes (POST), for the OpenAPI description. */
  body?: z.ZodType;
  /** Query parameters it reads, for the OpenAPI description. */
  query?: readonly string[];
  /** `text/event-stream` or `text/plain` instead of JSON. */
  produces?: string;
  handle(ctx: RestContext): Promise<void> | void;
}

const callBody = z.strictObject({
  tool: z.string().min(1).max(256),
  arguments: z.record(z.string(), z.unknown()).optional(),
  target: z.string().min(1).max(256).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});
const toolCallBody = callBody.omit({ tool: true });
const aggregateBody = z.strictObject({
  tool: z.string().min(1).max(256),
  arguments: z.record(z.string(), z.unknown()).optional(),
  targets: z.array(z.string().min(1).max(256)).max(1_000).optional(),
});

/** The routes of the face, `/mcp`, `/metrics`, the streams and the UI aside. */
export function restRoutes(app: App, version: string): Route[] {
  const builtin = async (name: string, args: Record<string, unknown>, agentId: string) => {
    const tool = app.builtins.get(name);
    if (!tool) throw new HttpError(404, 'not_found', `no built-in operation ${name}`);
    const result = await tool.handler(args, { agentId });
    const value = (result.structuredContent ?? {}) as Record<string, unknown>;
    if (result.isError) throw new HttpError(409, 'refused', JSON.stringify(value));
    return value;
  };
  const health = () => app.health.report();

  return [
    {
      method: 'GET',
      path: '/health',
      summary: 'Liveness for balancers: ok, degraded or down (no key needed)',
      scope: undefined,
      handle: ({ res }) => {
        const report = health();
        const status =
          report.overall === 'healthy' ? 'ok' : report.overall === 'unhealthy' ? 'down' : 'degraded';
        sendJson(res, status === 'down' ? 503 : 200, {
          status,
          version,
          targets: Object.keys(report.servers),
        });
      },
    },
    {
      method: 'GET',
      path: '/status',
      summary: 'The health report of coordinator__health plus active agents, locked files, active tasks',
      scope: 'read',
      handle: async ({ res, agentId }) => {
        const [report, locks, tasks, agents] = await Promise.all([
          builtin('health', {}, agentId),
          app.coordination.locks.list().catch(() => undefined),
          app.coordination.tasks.list('claimed').catch(() => undefined),
          app.coordination.agents.list().catch(() => undefined),
        ]);
        sendJson(res, 200, {
          ...report,
          activeAgents: agents?.length ?? null,
          lockedFiles: locks?.length ?? null,
          activeTasks: tasks?.length ?? null,
        });
      },
    },
    {
      method: 'POST',
      path: '/route',
      summary: 'One routed call (explicit target, context rules, default, failover)',
      body: callBody,
      scope: 'call',
      handle: async ({ res, body, agentId, req }) => {
        const a = parse(callBody, body());
        sendJson(res, 200, await routed(app, a, agentId, req));
      },
    },
    {
      method: 'POST',
      path: '/aggregate',
      summary: 'The same call on every server that has the tool, in parallel',
      body: aggregateBody,
      scope: 'call',
      handle: async ({ res, body, agentId }) => {
        const a = parse(aggregateBody, body());
        sendJson(res, 200, await builtin('aggregate', a, agentId));
      },
    },
    {
      method: 'GET',
      path: '/api/servers',
      summary: 'The servers of this coordinator and of the shared registry',
      scope: 'read',
      handle: async ({ res, agentId }) => sendJson(res, 200, await builtin('servers', {}, agentId)),
    },
    {
      method: 'GET',
      path: '/api/servers/{id}',
      summary: 'One server: status, era, transport, tools, restarts, latency, last error',
      scope: 'read',
      handle: ({ res, params }) => {
        const d = app.pool.get(params.id!);
        const report = health().servers[params.id!];
        if (!d || !report) throw new HttpError(404, 'unknown_server', `no server ${params.id}`);
        sendJson(res, 200, {
          id: d.id,
          ...report,
          group: d.config.group ?? null,
          eraNote: d.eraNote ?? null,
          serverInfo: d.snapshot?.serverInfo ?? null,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/servers/{id}/tools',
      summary: 'The tools one server contributes to the catalog',
      scope: 'read',
      handle: ({ res, params }) => {
        if (!app.pool.get(params.id!)) throw new HttpError(404, 'unknown_server', `no server ${params.id}`);
        const tools = app.state.current.tools.filter((t) => serverOf(t) === params.id);
        sendJson(res, 200, { tools: tools.map(summary) });
      },
    },
    {
      method: 'POST',
      path: '/api/servers/{id}/restart',
      summary: 'Restart one server (admin)',
      scope: 'admin',
      handle: async ({ res, params }) => {
        if (!(await app.restartServer(params.id!))) {
          throw new HttpError(404, 'unknown_server', `no server ${params.id}`);
        }
        sendJson(res, 202, { restarting: params.id });
      },
    },
    {
      method: 'GET',
      path: '/api/tools',
      summary: 'The merged catalog; q searches names and descriptions',
      query: ['q'],
      scope: 'read',
      handle: ({ res, url }) => {
        const q = url.searchParams.get('q')?.trim().toLowerCase() ?? '';
        if (q.length > 256) throw new HttpError(400, 'bad_request', 'q: at most 256 characters');
        const all = app.state.current.tools;
        const tools = q ? all.filter((t) => matches(t, q)) : all;
        sendJson(res, 200, { tools: tools.map(summary), total: all.length });
      },
    },
    {
      method: 'GET',
      path: '/api/tools/{name}',
      summary: 'One tool with its input schema',
      scope: 'read',
      handle: ({ res, params }) => {
        const tool = app.state.current.tools.find((t) => t.name === params.name);
        if (!tool) throw new HttpError(404, 'unknown_tool', `no tool ${params.name}`);
        sendJson(res, 200, tool);
      },
    },
    {
      method: 'POST',
      path: '/api/tools/{name}/call',
      summary: 'Call one tool, with routing hints in the body',
      body: toolCallBody,
      scope: 'call',
      handle: async ({ res, params, body, agentId, req }) => {
        const a = parse(toolCallBody, body() ?? {});
        sendJson(res, 200, await routed(app, { ...a, tool: params.name! }, agentId, req));
      },
    },
    {
      method: 'GET',
      path: '/api/locks',
      summary: 'The file locks of every agent',
      scope: 'read',
      handle: async ({ res, agentId }) => sendJson(res, 200, await builtin('list_locks', {}, agentId)),
    },
    {
      method: 'GET',
      path: '/api/tasks',
      summary: 'Tasks, optionally of one status',
      query: ['status'],
      scope: 'read',
      handle: async ({ res, agentId, url }) => {
        const status = url.searchParams.get('status');
        sendJson(res, 200, await builtin('list_tasks', status ? { status } : {}, agentId));
      },
    },
    {
      method: 'GET',
      path: '/api/agents',
      summary: 'The agents known to the coordination store',
      scope: 'read',
      handle: async ({ res, agentId }) => sendJson(res, 200, await builtin('list_agents', {}, agentId)),
    },
    {
      method: 'GET',
      path: '/api/state/{key}',
      scope: 'read',
      summary: 'One shared value (coordinator__get_state)',
      handle: async ({ res, params, agentId }) => {
        const entry = await builtin('get_state', { key: params.key }, agentId);
        if (entry.found !== true) throw new HttpError(404, 'unknown_state', `no shared value ${params.key}`);
        sendJson(res, 200, entry);
      },
    },
  ];
}

/** A call with routing hints: `{ data, routing }` as the seed gateway answered. */
async function routed(
  app: App,
  a: z.infer<typeof callBody>,
  agentId: string,
  req: IncomingMessage,
): Promise<{ data: CallToolResult; routing: unknown }> {
  const abort = new AbortController();
  const onClose = () => abort.abort(new Error('the HTTP client went away'));
  req.socket.once('close', onClose);
  try {
    const data = await dispatchToolCall(
      app,
      {
        name: a.tool,
        arguments: a.arguments,
        target: a.target,
        context: a.context,
        forward: { signal: abort.signal },
      },
      { agentId },
    );
    const routing = (data._meta as Record<string, unknown> | undefined)?.['coordinator/routing'] ?? {
      target: 'coordinator',
      reason: 'builtin',
      attempts: [],
    };
    return { data, routing };
  } catch (error) {
    throw asHttpError(error);
  } finally {
    req.socket.off('close', onClose);
  }
}

/** What went wrong in an operation, as a status and a slug. */
export function asHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const message = redact(error instanceof Error ? error.message : String(error));
  if (error instanceof UnknownNameError) return new HttpError(404, `unknown_${error.kind}`, message);
  if (error instanceof InvalidArgumentError) return new HttpError(400, 'bad_request', message);
  if (error instanceof MayHaveRunError) return new HttpError(502, 'may_have_run', message);
  if (error instanceof AllCandidatesFailedError || error instanceof TransportFailureError) {
    return new HttpError(503, 'no_healthy_target', message);
  }
  if (error instanceof CoordinationUnavailableError)
    return new HttpError(503, 'coordination_unavailable', message);
  return new HttpError(500, 'internal', message);
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new HttpError(400, 'bad_request', `${where}: ${issue.message}`);
}

const serverOf = (t: Tool) => (t._meta as Record<string, unknown> | undefined)?.['coordinator/server'];

function summary(t: Tool) {
  const meta = t._meta as Record<string, unknown> | undefined;
  return {
    name: t.name,
    server: meta?.['coordinator/server'] ?? null,
    originalName: meta?.['coordinator/originalName'] ?? t.name,
    description: t.description ?? '',
  };
}

function matches(t: Tool, q: string): boolean {
  return t.name.toLowerCase().includes(q) || (t.description?.toLowerCase().includes(q) ?? false);
}
