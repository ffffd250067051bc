/**
 * The task board tools: create_task, find_tasks, detect_conflicts, log_step. An agent puts work
 * on the board, another finds what it may take now, checks its files, claims it (claim_task) and
 * logs its steps for the others to follow.
 */
import { z } from 'zod';

import { LIMITS } from './limits.js';
import { capabilitiesSchema, taskSpecSchema } from './tasks/board.js';
import type { Tasks } from './tasks/service.js';
import { publicTask, type TaskRecord } from './tasks/types.js';
import { boundedList, defineTool, ok, refused, type CoordinationTool } from './tool-kit.js';

export interface BoardToolDeps {
  tasks: Tasks;
  /** Path → normalized lock path (relative to the workspace root). */
  normalize: (path: string) => string;
  /** The capabilities an agent registered, for find_tasks without `capabilities`. */
  capabilitiesOf?: (agentId: string) => Promise<readonly string[]>;
}

const taskId = z.string().min(1).max(LIMITS.taskId).describe('Identifier of the task');
const files = z
  .array(z.string().min(1).max(LIMITS.path))
  .min(1)
  .max(LIMITS.files)
  .describe('Paths, absolute or relative to the workspace root');

/** A task as list_tasks and find_tasks show it: who holds it now and how many steps it logged. */
export function taskView(task: TaskRecord): Record<string, unknown> {
  return {
    ...publicTask(task),
    holder: task.status === 'claimed' ? task.agentId : null,
    steps: task.steps ?? 0,
  };
}

export function boardTools({ tasks, normalize, capabilitiesOf }: BoardToolDeps): CoordinationTool[] {
  return [
    defineTool(
      'create_task',
      'Put a task on the board for any agent to take: title, files, required capabilities, priority, dependencies.',
      taskSpecSchema,
      async (a, who) => {
        const result = await tasks.create({ ...a, files: (a.files ?? []).map(normalize) }, who);
        if (result.ok) return ok({ created: true, task: taskView(result.task) });
        return refused({ created: false, ...result, ok: undefined, error: 'a task with this id exists' });
      },
    ),
    defineTool(
      'find_tasks',
      'The open tasks you may take now, best first: dependencies completed, capabilities covered, no file held by another agent.',
      z.object({
        capabilities: capabilitiesSchema
          .optional()
          .describe('Your capabilities; default: the ones you registered with register_agent'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(LIMITS.findLimit)
          .optional()
          .describe('At most this many (default 10)'),
      }),
      async (a, who, owner) => {
        const capabilities = a.capabilities ?? (await capabilitiesOf?.(who)) ?? [];
        const found = await tasks.find(who, capabilities, a.limit ?? 10, owner);
        return ok({ ...boundedList('tasks', found.map(taskView)), capabilities });
      },
    ),
    defineTool(
      'detect_conflicts',
      'Which of these files another agent holds, by a lock or a task claim; an empty list means you may take them all.',
      z.object({ files }),
      async (a, who, owner) =>
        ok({ conflicts: await tasks.detectConflicts(a.files.map(normalize), who, owner) }),
    ),
    defineTool(
      'log_step',
      'Log a step of a task you hold, for other agents and people to follow (task:progress).',
      z.object({
        taskId,
        message: z.string().trim().min(1).max(LIMITS.stepMessage).describe('What you did or found'),
        data: z.unknown().optional().describe(`Any JSON detail, at most ${LIMITS.stepDataBytes} bytes`),
      }),
      async (a, who, owner) => {
        const result = await tasks.logStep(a.taskId, who, a.message, a.data, owner);
        if (result.ok) return ok({ logged: true, step: result.step, steps: result.task.steps ?? 0 });
        const why = {
          not_found: 'no such task',
          not_claimed: 'the task is not claimed; claim it first',
          not_claimer:
            result.holder === who
              ? 'the task is claimed by another session of this agent (same agent id)'
              : 'the task is claimed by another agent',
        }[result.reason];
        return refused({ logged: false, ...result, ok: undefined, error: why });
      },
    ),
  ];
}
