/** coordinator__health, coordinator__servers and coordinator__events: what the coordinator sees. */
import { z } from 'zod';
import type { EventBus } from '../coordination/types.js';
import type { Registry } from '../coordination/registry/service.js';
import type { DownstreamPool } from '../downstream/pool.js';
import type { HealthMonitor } from '../router/health.js';
import { jsonResult, type BuiltinTool } from './builtins.js';
import { parseArgs } from './builtin-routing.js';

export interface StatusDeps {
  health: HealthMonitor;
  pool: DownstreamPool;
  registry: Registry;
  bus: EventBus;
  /** This coordinator's instance id (the registry's `owner`). */
  instanceId: string;
  /** More to report beside the contract's shape (config errors, cache counters). */
  details?: () => Record<string, unknown>;
}

const eventsArgs = z.strictObject({
  since: z.string().optional(),
  type: z.string().optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
});

export function statusTools(deps: StatusDeps): BuiltinTool[] {
  return [
    {
      name: 'health',
      description:
        'Unified health: overall status, each downstream server (status, transport, tools, restarts, ' +
        'lastError, latencyMs) and Redis.',
      inputSchema: { type: 'object', properties: {} },
      async handler() {
        return jsonResult({ ...deps.health.report(), ...deps.details?.() });
      },
    },
    {
      name: 'servers',
      description:
        'The servers of this coordinator and, with a shared Redis, of every coordinator (marked by owner).',
      inputSchema: { type: 'object', properties: {} },
      async handler() {
        const local = deps.pool.all().map((d) => ({
          serverId: d.id,
          owner: deps.instanceId,
          status: d.status,
          transport: d.transport,
          group: d.config.group ?? null,
          tools: d.snapshot?.tools.length ?? 0,
          restarts: d.restarts,
          lastError: d.lastError ?? null,
        }));
        let registry: unknown[] = [];
        let registryError: string | undefined;
        try {
          registry = await deps.registry.list();
        } catch (error) {
          registryError = error instanceof Error ? error.message : String(error);
        }
        return jsonResult({
          owner: deps.instanceId,
          servers: local,
          registry,
          ...(registryError && { registryError }),
        });
      },
    },
    {
      name: 'events',
      description:
        'Recent coordination events (file locks, tasks, agents, health, servers), oldest first; ' +
        'from the shared Redis stream, or this process ring buffer without Redis.',
      inputSchema: {
        type: 'object',
        properties: {
          since: { type: 'string', description: 'a stream or event id, an ISO time or epoch ms' },
          type: { type: 'string', description: 'glob over event types, e.g. file:*' },
          limit: { type: 'number', description: 'at most this many (default 100)' },
        },
      },
      async handler(args) {
        const a = parseArgs(eventsArgs, args, 'coordinator__events');
        const events = await deps.bus.replay({ since: a.since, type: a.type, limit: a.limit ?? 100 });
        return jsonResult({ events });
      },
    },
  ];
}
