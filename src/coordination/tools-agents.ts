/** register_agent and list_agents: who is on the team, what they can do, what they are doing. */
import { z } from 'zod';

import { agentProfileSchema, type Agents } from './agents/service.js';
import { boundedList, defineTool, ok, type CoordinationTool } from './tool-kit.js';

export function agentTools(agents: Agents): CoordinationTool[] {
  return [
    defineTool(
      'register_agent',
      'Set your capabilities, status (idle, working, busy, away) and metadata for the team; find_tasks uses your capabilities.',
      agentProfileSchema,
      async (a, who) => ok({ registered: true, agent: await agents.update(who, a) }),
    ),
    defineTool(
      'list_agents',
      'The live agents of every coordinator: capabilities, status, metadata, last seen.',
      z.object({}),
      async () => ok(boundedList('agents', await agents.list())),
    ),
  ];
}
