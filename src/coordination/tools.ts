/**
 * The lock and task tools of the `coordinator` namespace (`coordinator__lock_file`, …, the task
 * board's in tools-board.ts): names
 * unprefixed here, the server layer adds the namespace. Arguments are checked by zod schemas that
 * also produce the advertised JSON Schema, so the two never drift apart.
 *
 * Outcomes: a granted or listed thing is a normal result; a refusal (someone else holds the file
 * or the task) is `isError: true` with the details, because the agent must act on it; an
 * unreachable store throws CoordinationUnavailableError for the server layer to convert.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { accessRefusal, type AccessControl } from './access.js';
import { LIMITS } from './limits.js';
import type { Agents } from './agents/service.js';
import type { CacheInvalidation } from './cache-invalidation.js';
import type { Locks } from './locks/service.js';
import { publicLock } from './locks/types.js';
import { normalizeLockPath } from './paths.js';
import type { SharedState } from './state/service.js';
import type { Tasks } from './tasks/service.js';
import { publicTask, TASK_STATUSES, type FinishResult } from './tasks/types.js';
import { agentTools } from './tools-agents.js';
import { boardTools, taskView } from './tools-board.js';
import { stateTools } from './tools-state.js';
import {
  boundedList,
  defineTool,
  heldByWhom,
  ok,
  refused,
  type CoordinationTool,
  type ToolCaller,
} from './tool-kit.js';

export { boundedList, MAX_LIST_RESULT_BYTES, type CoordinationTool } from './tool-kit.js';

export interface CoordinationToolDeps {
  locks: Locks;
  tasks: Tasks;
  agents: Agents;
  state: SharedState;
  caches: CacheInvalidation;
  /** The agent when the call does not name one (one-shot CLI commands). */
  agentId: () => string;
  /** The owner token of such a call: this process's (see locks/types.ts). */
  owner?: string;
  workspaceRoot: string;
  lockTtlMs: number;
  /** `coordination.access`: the files a call locks and the event it publishes are checked first. */
  access?: AccessControl;
}

/** Longest lock an agent may ask for: a day. A forgotten lock should not outlive the workday. */
const MAX_TTL_MS = 86_400_000;

const file = z
  .string()
  .min(1)
  .max(LIMITS.path)
  .describe('Path of the file, absolute or relative to the workspace root');
const taskId = z.string().min(1).max(LIMITS.taskId).describe('Identifier of the task');

const schemas = {
  lock_file: z.object({
    file,
    reason: z
      .string()
      .max(LIMITS.reason)
      .optional()
      .describe('Why you lock it, shown to agents that are refused'),
    ttlMs: z.number().int().min(1).max(MAX_TTL_MS).optional().describe('Lock lifetime in ms'),
  }),
  unlock_file: z.object({ file }),
  list_locks: z.object({}),
  claim_task: z.object({
    taskId,
    files: z
      .array(file)
      .max(LIMITS.files)
      .optional()
      .describe("Files to lock with the task (besides the task's own), all or none"),
  }),
  complete_task: z.object({ taskId, result: z.unknown().optional().describe('Any JSON outcome to record') }),
  release_task: z.object({ taskId }),
  list_tasks: z.object({ status: z.enum(TASK_STATUSES).optional().describe('Only tasks in this status') }),
};

export function coordinationTools(deps: CoordinationToolDeps): CoordinationTool[] {
  const { locks, tasks, agents, state, caches, agentId, workspaceRoot, lockTtlMs, access } = deps;
  const normalize = (path: string) => normalizeLockPath(path, workspaceRoot);

  const all = [
    tool(
      'lock_file',
      'Lock a file so other agents do not edit it; locking it again extends your lock.',
      async (a, who, owner) => {
        const result = await locks.acquire(normalize(a.file), who, {
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
          ttlMs: a.ttlMs ?? lockTtlMs,
          ...(owner !== undefined && { owner }),
        });
        if (!result.ok) {
          const { file, holder, reason, expiresAt } = result;
          // Refused by its own agent id: say so, or the agent thinks it holds the file.
          const same = holder === who ? { error: heldByWhom(holder, who) } : {};
          return refused({ locked: false, file, holder, reason: reason ?? null, expiresAt, ...same });
        }
        return ok({ locked: true, extended: result.extended, ...publicLock(result.lock) });
      },
    ),
    tool('unlock_file', 'Release a file lock you hold.', async (a, who, owner) => {
      const result = await locks.release(normalize(a.file), who, owner);
      if (result.ok) return ok({ unlocked: true, file: result.lock.file, releasedAt: result.releasedAt });
      if (result.reason === 'not_locked')
        return ok({ unlocked: false, file: result.file, reason: 'not locked' });
      const { file, holder, expiresAt } = result;
      const reason =
        holder === who
          ? 'locked by another session of this agent (same agent id)'
          : 'locked by another agent';
      return refused({ unlocked: false, file, reason, holder, expiresAt });
    }),
    tool('list_locks', 'List the current file locks of every agent.', async () => {
      return ok(boundedList('locks', (await locks.list()).map(publicLock)));
    }),
    tool(
      'claim_task',
      'Claim a task and lock all its files, or nothing when a file or the task is held by another agent (or a dependency is not completed).',
      async (a, who, owner) => {
        const files = (a.files ?? []).map(normalize);
        const result = await tasks.claim(a.taskId, who, files, owner);
        if (result.ok) return ok({ claimed: true, task: publicTask(result.task) });
        const same = 'holder' in result && result.holder === who ? { error: heldByWhom(who, who) } : {};
        return refused({ claimed: false, ...result, ok: undefined, ...same });
      },
    ),
    tool(
      'complete_task',
      'Mark a task you claimed as completed and release its files.',
      async (a, who, owner) => {
        return finished('completed', await tasks.complete(a.taskId, who, a.result, owner), who);
      },
    ),
    tool('release_task', 'Give up a task you claimed and release its files.', async (a, who, owner) => {
      return finished('released', await tasks.release(a.taskId, who, owner), who);
    }),
    tool(
      'list_tasks',
      'List tasks with their status, holder, files and steps count; optionally only open, claimed, completed or released ones.',
      async (a) => {
        return ok(boundedList('tasks', (await tasks.list(a.status)).map(taskView)));
      },
    ),
    ...boardTools({
      tasks,
      normalize,
      capabilitiesOf: async (id) => (await agents.get(id))?.capabilities ?? [],
    }),
    ...agentTools(agents),
    ...stateTools(state, caches),
  ];
  const refusal = access?.active ? accessCheck(access, tasks, normalize) : undefined;
  // A call that names no agent (a one-shot CLI command) acts as the process's own agent and session.
  return all.map((t) => ({
    ...t,
    handler: async (args: unknown, caller?: ToolCaller) => {
      const who = caller?.agentId ?? agentId();
      const owner = caller?.agentId !== undefined ? caller.owner : deps.owner;
      const denied = await refusal?.(t.name, args, who);
      return denied ?? t.handler(args, { agentId: who, ...(owner !== undefined && { owner }) });
    },
  }));
}

/** The event each action publishes, checked against the agent's `events` rule before it runs. */
const PUBLISHES: Record<string, string> = {
  lock_file: 'file:locked',
  unlock_file: 'file:unlocked',
  claim_task: 'task:claimed',
  complete_task: 'task:completed',
  release_task: 'task:released',
  create_task: 'task:created',
  log_step: 'task:progress',
  register_agent: 'agent:status_changed',
  set_state: 'state:changed',
  delete_state: 'state:changed',
  invalidate_cache: 'cache:invalidate',
};

/**
 * Before a call runs: the files it would lock (lock_file's file; claim_task's files and the
 * task's own) and the event it would publish. A refusal is `isError` naming the rule, and
 * `access:denied` is published. Arguments the schema will refuse are left to the tool.
 */
function accessCheck(access: AccessControl, tasks: Tasks, normalize: (path: string) => string) {
  const paths = (list: unknown[]): string[] => {
    const out: string[] = [];
    for (const f of list) {
      try {
        if (typeof f === 'string') out.push(normalize(f));
      } catch {
        // not a path the tool would accept either: it reports that itself
      }
    }
    return out;
  };
  return async (name: string, args: unknown, who: string): Promise<CallToolResult | undefined> => {
    const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
    let files: string[] = [];
    if (name === 'lock_file') files = paths([a.file]);
    if (name === 'claim_task') {
      const own = typeof a.taskId === 'string' ? ((await tasks.get(a.taskId))?.files ?? []) : [];
      files = [...own, ...paths(Array.isArray(a.files) ? a.files : [])];
    }
    const event = PUBLISHES[name];
    const denial =
      access.enforce(who, 'file', files) ?? (event ? access.enforce(who, 'event', [event]) : undefined);
    if (!denial) return undefined;
    return accessRefusal(denial);
  };
}

type Schemas = typeof schemas;

function tool<N extends keyof Schemas>(
  name: N,
  description: string,
  run: (args: z.infer<Schemas[N]>, agent: string, owner: string | undefined) => Promise<CallToolResult>,
): CoordinationTool {
  return defineTool(
    name,
    description,
    schemas[name],
    run as (args: unknown, agent: string, owner: string | undefined) => Promise<CallToolResult>,
  );
}

function finished(verb: 'completed' | 'released', result: FinishResult, who: string): CallToolResult {
  if (result.ok) return ok({ [verb]: true, task: publicTask(result.task) });
  const why = {
    not_found: 'no such task',
    not_claimed: 'the task is not claimed',
    not_claimer:
      result.holder === who
        ? 'the task is claimed by another session of this agent (same agent id)'
        : 'the task is claimed by another agent',
  }[result.reason];
  return refused({ [verb]: false, ...result, ok: undefined, error: why });
}
