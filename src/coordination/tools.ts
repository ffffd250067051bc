/**
 * The lock and task tools of the `coordinator` namespace (`coordinator__lock_file`, …): names
 * unprefixed here, the server layer adds the namespace. Arguments are checked by zod schemas that
 * also produce the advertised JSON Schema, so the two never drift apart.
 *
 * Outcomes: a granted or listed thing is a normal result; a refusal (someone else holds the file
 * or the task) is `isError: true` with the details, because the agent must act on it; an
 * unreachable store throws CoordinationUnavailableError for the server layer to convert.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { InvalidArgumentError } from '../shared/errors.js';
import type { Locks } from './locks/service.js';
import { publicLock } from './locks/types.js';
import { normalizeLockPath } from './paths.js';
import type { Tasks } from './tasks/service.js';
import { TASK_STATUSES, type FinishResult } from './tasks/types.js';

export interface CoordinationToolDeps {
  locks: Locks;
  tasks: Tasks;
  /** The agent when the call does not name one (one-shot CLI commands). */
  agentId: () => string;
  workspaceRoot: string;
  lockTtlMs: number;
}

export interface CoordinationTool {
  /** Unprefixed, e.g. `lock_file`. */
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties?: Record<string, unknown>; required?: string[] };
  /** `caller.agentId`: the calling session's agent (each client acts as itself). */
  handler(args: unknown, caller?: { agentId?: string }): Promise<CallToolResult>;
}

/** Longest lock an agent may ask for: a day. A forgotten lock should not outlive the workday. */
const MAX_TTL_MS = 86_400_000;
const MAX_FILES = 1_000;

const file = z.string().min(1).describe('Path of the file, absolute or relative to the workspace root');
const taskId = z.string().min(1).max(512).describe('Identifier of the task');

const schemas = {
  lock_file: z.object({
    file,
    reason: z.string().max(1_000).optional().describe('Why you lock it, shown to agents that are refused'),
    ttlMs: z.number().int().min(1).max(MAX_TTL_MS).optional().describe('Lock lifetime in ms'),
  }),
  unlock_file: z.object({ file }),
  list_locks: z.object({}),
  claim_task: z.object({
    taskId,
    files: z.array(file).max(MAX_FILES).optional().describe('Files to lock with the task, all or none'),
  }),
  complete_task: z.object({ taskId, result: z.unknown().optional().describe('Any JSON outcome to record') }),
  release_task: z.object({ taskId }),
  list_tasks: z.object({ status: z.enum(TASK_STATUSES).optional().describe('Only tasks in this status') }),
};

export function coordinationTools(deps: CoordinationToolDeps): CoordinationTool[] {
  const { locks, tasks, agentId, workspaceRoot, lockTtlMs } = deps;
  const normalize = (path: string) => normalizeLockPath(path, workspaceRoot);

  const all = [
    tool(
      'lock_file',
      'Lock a file so other agents do not edit it; locking it again extends your lock.',
      async (a, who) => {
        const result = await locks.acquire(normalize(a.file), who, {
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
          ttlMs: a.ttlMs ?? lockTtlMs,
        });
        if (!result.ok) {
          const { file, holder, reason, expiresAt } = result;
          return refused({ locked: false, file, holder, reason: reason ?? null, expiresAt });
        }
        return ok({ locked: true, extended: result.extended, ...publicLock(result.lock) });
      },
    ),
    tool('unlock_file', 'Release a file lock you hold.', async (a, who) => {
      const result = await locks.release(normalize(a.file), who);
      if (result.ok) return ok({ unlocked: true, file: result.lock.file, releasedAt: result.releasedAt });
      if (result.reason === 'not_locked')
        return ok({ unlocked: false, file: result.file, reason: 'not locked' });
      const { file, holder, expiresAt } = result;
      return refused({ unlocked: false, file, reason: 'locked by another agent', holder, expiresAt });
    }),
    tool('list_locks', 'List the current file locks of every agent.', async () => {
      return ok(boundedList('locks', (await locks.list()).map(publicLock)));
    }),
    tool(
      'claim_task',
      'Claim a task and lock all its files, or nothing when a file or the task is held by another agent.',
      async (a, who) => {
        const files = (a.files ?? []).map(normalize);
        const result = await tasks.claim(a.taskId, who, files);
        if (result.ok) return ok({ claimed: true, task: result.task });
        return refused({ claimed: false, ...result, ok: undefined });
      },
    ),
    tool('complete_task', 'Mark a task you claimed as completed and release its files.', async (a, who) => {
      return finished('completed', await tasks.complete(a.taskId, who, a.result));
    }),
    tool('release_task', 'Give up a task you claimed and release its files.', async (a, who) => {
      return finished('released', await tasks.release(a.taskId, who));
    }),
    tool('list_tasks', 'List tasks, optionally only those claimed, completed or released.', async (a) => {
      return ok(boundedList('tasks', await tasks.list(a.status)));
    }),
  ];
  // A call that names no agent (a one-shot CLI command) acts as the process's own agent.
  return all.map((t) => ({
    ...t,
    handler: (args: unknown, caller?: { agentId?: string }) =>
      t.handler(args, { agentId: caller?.agentId ?? agentId() }),
  }));
}

type Schemas = typeof schemas;

function tool<N extends keyof Schemas>(
  name: N,
  description: string,
  run: (args: z.infer<Schemas[N]>, agent: string) => Promise<CallToolResult>,
): CoordinationTool {
  const schema = schemas[name];
  const { $schema: _dialect, ...inputSchema } = z.toJSONSchema(schema, { io: 'input' });
  return {
    name,
    description,
    inputSchema: inputSchema as CoordinationTool['inputSchema'],
    handler: async (args, caller) =>
      run(parseArgs(schema, args) as z.infer<Schemas[N]>, caller?.agentId ?? ''),
  };
}

function parseArgs(schema: z.ZodType, args: unknown): unknown {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'arguments';
  throw new InvalidArgumentError(`${field}: ${issue?.message ?? 'invalid'}`);
}

function finished(verb: 'completed' | 'released', result: FinishResult): CallToolResult {
  if (result.ok) return ok({ [verb]: true, task: result.task });
  const why = {
    not_found: 'no such task',
    not_claimed: 'the task is not claimed',
    not_claimer: 'the task is claimed by another agent',
  }[result.reason];
  return refused({ [verb]: false, ...result, ok: undefined, error: why });
}

/** Most JSON a built-in list puts in one result; clients end a session over their message limit. */
export const MAX_LIST_RESULT_BYTES = 1024 * 1024;

/**
 * `{ [key]: items }`, or as many items as fit in `MAX_LIST_RESULT_BYTES` (twice: the result
 * carries its JSON as text as well) and a `truncated` note saying how many were left out.
 */
export function boundedList<T>(
  key: string,
  items: readonly T[],
  maxBytes = MAX_LIST_RESULT_BYTES,
): Record<string, unknown> {
  let bytes = 0;
  let shown = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes > maxBytes / 2) break;
    shown++;
  }
  if (shown === items.length) return { [key]: items };
  return {
    [key]: items.slice(0, shown),
    truncated: {
      shown,
      total: items.length,
      note: `only the first ${shown} of ${items.length} ${key} fit in one result`,
    },
  };
}

function ok(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

function refused(body: Record<string, unknown>): CallToolResult {
  const clean = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  return { ...ok(clean), isError: true };
}
