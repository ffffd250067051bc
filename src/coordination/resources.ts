/**
 * The coordinator's own resources: a task's state, log and files, an agent's status, and who works
 * on a task. Plain data here (the upstream handler wraps it as JSON text contents); which URIs a
 * coordination event changes is decided here too, so every face notifies the same way.
 */
import type { Agents } from './agents/service.js';
import type { Locks } from './locks/service.js';
import { publicLock } from './locks/types.js';
import { publicTask } from './tasks/types.js';
import type { Tasks } from './tasks/service.js';
import type { CoordinationEvent } from './types.js';

/** What `resources/templates/list` shows for them (the catalog lists them before the downstreams'). */
export const COORDINATION_RESOURCE_TEMPLATES = Object.freeze([
  template(
    'tasks://{taskId}/state',
    'task-state',
    "A task's record: status, holder, files, board fields, steps count",
  ),
  template(
    'tasks://{taskId}/logs',
    'task-logs',
    "A task's log (the steps logged with log_step, oldest first)",
  ),
  template(
    'tasks://{taskId}/files',
    'task-files',
    "A task's files, each with the lock that holds it (or null)",
  ),
  template(
    'agents://{agentId}/status',
    'agent-status',
    "An agent's status, capabilities, metadata and held tasks",
  ),
  template(
    'collaboration://{taskId}',
    'collaboration',
    'The agents working on a task: its holder, step authors, creator',
  ),
]);

/** URIs of these schemes are the coordinator's own: they are never routed to a downstream. */
export const COORDINATION_URI_SCHEMES: readonly string[] = ['tasks', 'agents', 'collaboration'];

export type CoordinationResourceKind =
  'task-state' | 'task-logs' | 'task-files' | 'agent-status' | 'collaboration';

export interface CoordinationUri {
  kind: CoordinationResourceKind;
  /** The task id or the agent id. */
  id: string;
}

const PATTERNS: ReadonlyArray<[RegExp, CoordinationResourceKind]> = [
  [/^tasks:\/\/(.+)\/state$/, 'task-state'],
  [/^tasks:\/\/(.+)\/logs$/, 'task-logs'],
  [/^tasks:\/\/(.+)\/files$/, 'task-files'],
  [/^agents:\/\/(.+)\/status$/, 'agent-status'],
  [/^collaboration:\/\/(.+)$/, 'collaboration'],
];

export function isCoordinationUri(uri: string): boolean {
  const colon = uri.indexOf('://');
  return colon > 0 && COORDINATION_URI_SCHEMES.includes(uri.slice(0, colon));
}

export function parseCoordinationUri(uri: string): CoordinationUri | undefined {
  for (const [pattern, kind] of PATTERNS) {
    const match = pattern.exec(uri);
    if (!match?.[1]) continue;
    try {
      return { kind, id: decodeURIComponent(match[1]) };
    } catch {
      return undefined; // a malformed %-escape names nothing
    }
  }
  return undefined;
}

const enc = encodeURIComponent;
export const taskResourceUris = (taskId: string): string[] => [
  `tasks://${enc(taskId)}/state`,
  `tasks://${enc(taskId)}/logs`,
  `tasks://${enc(taskId)}/files`,
  `collaboration://${enc(taskId)}`,
];
export const agentResourceUri = (agentId: string): string => `agents://${enc(agentId)}/status`;

/** The resource URIs a coordination event changes (none for events of other families). */
export function changedResourceUris(event: CoordinationEvent): string[] {
  const data = (event.data ?? {}) as Record<string, unknown>;
  if (event.type.startsWith('task:') && typeof data.taskId === 'string') {
    const uris = taskResourceUris(data.taskId);
    // A claim or a finish changes what the holder holds.
    if (event.type !== 'task:created' && event.type !== 'task:progress' && typeof data.agentId === 'string') {
      uris.push(agentResourceUri(data.agentId));
    }
    return uris;
  }
  if (event.type.startsWith('agent:') && typeof data.agentId === 'string')
    return [agentResourceUri(data.agentId)];
  return [];
}

/** Steps a resource shows (the log itself keeps more; log_step callers page through events). */
const STEPS_SHOWN = 100;

export class CoordinationResources {
  constructor(private readonly deps: { tasks: Tasks; agents: Agents; locks: Locks }) {}

  /** The resource's JSON value; undefined when no such task or agent exists (or the URI is not ours). */
  async read(uri: string): Promise<Record<string, unknown> | undefined> {
    const parsed = parseCoordinationUri(uri);
    if (!parsed) return undefined;
    const { tasks, agents, locks } = this.deps;
    if (parsed.kind === 'agent-status') {
      const agent = await agents.get(parsed.id);
      if (!agent) return undefined;
      const held = (await tasks.list('claimed')).filter((t) => t.agentId === parsed.id).map((t) => t.taskId);
      return { ...agent, tasks: held };
    }
    const task = await tasks.get(parsed.id);
    if (!task) return undefined;
    switch (parsed.kind) {
      case 'task-state':
        return { ...publicTask(task) };
      case 'task-logs':
        return { taskId: task.taskId, steps: await tasks.steps(task.taskId, STEPS_SHOWN) };
      case 'task-files': {
        const held = await locks.getMany(task.files);
        const files = task.files.map((file) => {
          const lock = held.get(file);
          return { file, lock: lock ? publicLock(lock) : null };
        });
        return { taskId: task.taskId, status: task.status, files };
      }
      case 'collaboration': {
        const steps = await tasks.steps(task.taskId, STEPS_SHOWN);
        const roles = new Map<string, Set<string>>();
        const add = (agentId: string | undefined, role: string) => {
          if (!agentId) return;
          const set = roles.get(agentId) ?? new Set<string>();
          set.add(role);
          roles.set(agentId, set);
        };
        if (task.status === 'claimed') add(task.agentId, 'holder');
        for (const step of steps) add(step.agentId, 'contributor');
        add(task.createdBy, 'creator');
        const holder = task.status === 'claimed' ? task.agentId : null;
        return {
          taskId: task.taskId,
          status: task.status,
          holder,
          agents: [...roles].map(([agentId, set]) => ({
            agentId,
            roles: [...set],
            steps: steps.filter((s) => s.agentId === agentId).length,
          })),
        };
      }
    }
  }
}

function template(uriTemplate: string, name: string, description: string) {
  return Object.freeze({ uriTemplate, name, description, mimeType: 'application/json' });
}
