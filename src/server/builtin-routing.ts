/** coordinator__route and coordinator__aggregate: the routed call and the fan-out, as tools. */
import { z } from 'zod';
import type { Router } from '../router/router.js';
import { InvalidArgumentError } from '../shared/errors.js';
import { jsonResult, type BuiltinTool } from './builtins.js';

const routeArgs = z.strictObject({
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).optional(),
  target: z.string().min(1).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});

const aggregateArgs = z.strictObject({
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).optional(),
  targets: z.array(z.string().min(1)).optional(),
});

/** zod's verdict as one sentence naming the field. */
export function parseArgs<T>(schema: z.ZodType<T>, args: unknown, tool: string): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'arguments';
  throw new InvalidArgumentError(`${tool}: ${where}: ${issue.message}`);
}

const objectSchema = (properties: Record<string, object>, required: string[]): BuiltinTool['inputSchema'] =>
  ({
    type: 'object' as const,
    properties,
    required,
    additionalProperties: false,
  }) as BuiltinTool['inputSchema'];

export function routingTools(router: Router): BuiltinTool[] {
  return [
    {
      name: 'route',
      description:
        'Call a tool through the router with an explicit target server and/or a routing context; ' +
        'the result carries _meta["coordinator/routing"] (target, reason, attempts).',
      inputSchema: objectSchema(
        {
          tool: { type: 'string', description: 'exposed tool name, e.g. memory__read_graph' },
          arguments: { type: 'object', description: 'arguments for the tool' },
          target: { type: 'string', description: 'server id to send the call to' },
          context: { type: 'object', description: 'routing context matched against routing.rules' },
        },
        ['tool'],
      ),
      async handler(args, context) {
        const a = parseArgs(routeArgs, args, 'coordinator__route');
        refuseBuiltin(a.tool, 'coordinator__route');
        return router.callTool({
          name: a.tool,
          arguments: a.arguments,
          target: a.target,
          context: a.context,
          forward: { signal: context.signal },
        });
      },
    },
    {
      name: 'aggregate',
      description:
        'Run the same tool on every server that has it (or the listed targets) in parallel; ' +
        'returns { results, errors, aggregation } keyed by server id. Partial failure is a result.',
      inputSchema: objectSchema(
        {
          tool: { type: 'string', description: 'tool name as the servers know it, or an exposed name' },
          arguments: { type: 'object' },
          targets: { type: 'array', items: { type: 'string' }, description: 'server ids (default: all)' },
        },
        ['tool'],
      ),
      async handler(args) {
        const a = parseArgs(aggregateArgs, args, 'coordinator__aggregate');
        refuseBuiltin(a.tool, 'coordinator__aggregate');
        const outcome = await router.aggregate(a.tool, a.arguments, a.targets);
        return jsonResult(outcome as unknown as Record<string, unknown>);
      },
    },
  ];
}

/** The routing tools reach servers' tools; a built-in one is called as itself. */
function refuseBuiltin(tool: string, by: string): void {
  if (tool.startsWith('coordinator__')) {
    throw new InvalidArgumentError(`${by}: ${tool} is one of the coordinator's own tools: call it directly`);
  }
}
