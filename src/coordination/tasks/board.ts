/**
 * The task board's choices, as pure functions over task records: which tasks an agent may take
 * now and in what order. The backends answer find_tasks from an index of the open tasks kept in
 * this order (memory: a sorted array; Redis: a sorted set), walked best first until the limit is
 * filled; `candidateTasks` states the same rule over a whole list of records, the reference the
 * contract suite holds both walks to.
 */
import { z } from 'zod';

import { LIMITS } from '../limits.js';
import type { TaskRecord } from './types.js';

const strings = (max: number, each: number, what: string) =>
  z
    .array(z.string().trim().min(1).max(each))
    .max(max)
    .describe(`${what} (at most ${max}, each up to ${each} characters)`);

/** create_task's arguments (files as given: the tool normalizes them before the service sees them). */
export const taskSpecSchema = z.object({
  taskId: z
    .string()
    .min(1)
    .max(LIMITS.taskId)
    .optional()
    .describe('Identifier of the new task; a fresh one is made when absent'),
  title: z.string().trim().min(1).max(LIMITS.title).describe('What is to be done, in a line'),
  description: z.string().max(LIMITS.description).optional().describe('Details for the agent that takes it'),
  files: z
    .array(z.string().min(1).max(LIMITS.path))
    .max(LIMITS.files)
    .optional()
    .describe('Files the task will edit: locked together when it is claimed'),
  capabilities: strings(LIMITS.capabilities, LIMITS.capability, 'Capabilities an agent needs').optional(),
  priority: z
    .number()
    .int()
    .min(-LIMITS.priority)
    .max(LIMITS.priority)
    .optional()
    .describe('Higher is picked first; default 0'),
  dependsOn: z
    .array(z.string().min(1).max(LIMITS.taskId))
    .max(LIMITS.dependsOn)
    .optional()
    .describe('Existing tasks that must be completed before this one can be claimed'),
});

export type TaskSpecInput = z.input<typeof taskSpecSchema>;

export const capabilitiesSchema = strings(LIMITS.capabilities, LIMITS.capability, 'Capabilities');

/**
 * Tasks `agentId` could take as far as the records tell — open or released, every dependency
 * completed, every required capability among `capabilities`, no file in a task another agent
 * holds — best first: higher priority, then older, then by id.
 */
export function candidateTasks(
  tasks: readonly TaskRecord[],
  agentId: string,
  capabilities: readonly string[],
): TaskRecord[] {
  const status = new Map(tasks.map((t) => [t.taskId, t.status]));
  const heldByOthers = new Set<string>();
  for (const t of tasks) {
    if (t.status === 'claimed' && t.agentId !== agentId) for (const f of t.files) heldByOthers.add(f);
  }
  const have = new Set(capabilities);
  return tasks
    .filter(
      (t) =>
        (t.status === 'open' || t.status === 'released') &&
        (t.dependsOn ?? []).every((d) => status.get(d) === 'completed') &&
        (t.capabilities ?? []).every((c) => have.has(c)) &&
        !t.files.some((f) => heldByOthers.has(f)),
    )
    .sort(bestFirst);
}

/**
 * Task ids in code-unit order: deterministic everywhere, and cheap. `localeCompare` (and even a
 * shared Intl.Collator) made sorting 10,000 tasks cost tens of milliseconds of CPU.
 */
export const byTaskId = (a: { taskId: string }, b: { taskId: string }): number =>
  a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0;

export function bestFirst(a: TaskRecord, b: TaskRecord): number {
  const byPriority = (b.priority ?? 0) - (a.priority ?? 0);
  if (byPriority !== 0) return byPriority;
  const sa = since(a);
  const sb = since(b);
  // ISO-8601 times of one clock order as plain strings.
  return sa < sb ? -1 : sa > sb ? 1 : byTaskId(a, b);
}

function since(task: TaskRecord): string {
  return task.createdAt ?? task.claimedAt ?? task.updatedAt;
}
