/**
 * Every coordination contract suite over a real three-master Redis Cluster started on loopback:
 * locks, tasks, the board, agents, the server registry, shared state and the bus. The store's
 * keys carry one hash tag there (`{…}`), so each Lua script — a multi-file claim, a batch lock
 * lookup — runs on a single slot; events travel by cluster-wide PUBLISH.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { Cluster } from 'ioredis';

import { createBus } from '../../src/coordination/bus/index.js';
import { RedisBus } from '../../src/coordination/bus/redis.js';
import { createCoordination } from '../../src/coordination/index.js';
import { openRedis, scanKeys } from '../../src/coordination/redis-connect.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { runAgentContract } from './agents-suite.js';
import { runBoardContract } from './board-suite.js';
import { collect, runBusContract, waitForStatus, waitUntil } from './bus-suite.js';
import { redisEnv } from './coordination-env.js';
import { runLockContract } from './locks-suite.js';
import { runRegistryContract } from './registry-suite.js';
import { runStateContract } from './state-suite.js';
import { runTaskContract } from './tasks-suite.js';

const cluster = await startRedisCluster();
after(() => cluster.stop());
const target = { cluster: cluster.urls };
const env = redisEnv(() => target);

runLockContract('redis cluster', env);
runTaskContract('redis cluster', env);
runBoardContract('redis cluster', env);
runAgentContract('redis cluster', env);
runRegistryContract('redis cluster', env);
runStateContract('redis cluster', env);

let buses = 0;
runBusContract('redis cluster', async (options) => {
  const prefix = `cb${++buses}:mcp:`;
  const bus = new RedisBus({
    redisUrl: target,
    prefix,
    streamMaxLen: 1_000,
    source: 'test-source',
    agentId: 'test-agent',
    logger: silentLogger,
    reconnectMaxDelayMs: 100,
    ...(options?.secret !== undefined ? { secret: options.secret } : {}),
  });
  const raw = openRedis(target, {});
  await waitForStatus(bus, 'connected');
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      raw.disconnect();
    },
    // From the node the bus's own publish script runs on (the stream key's): messages published
    // on different nodes of a Cluster have no order between them, and the suite relies on one.
    inject: async (json) =>
      void (await raw.eval(
        "return redis.call('PUBLISH', ARGV[1], ARGV[2])",
        1,
        `${prefix}events:stream`,
        `${prefix}events`,
        json,
      )),
  };
});

describe('redis cluster: through createCoordination and createBus, as the app opens them', () => {
  it('keeps every store key under the {mcp} tag in one slot, and events reach another coordinator', async () => {
    const opened: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const close of opened.reverse()) await close();
    });
    const coordinator = async (source: string) => {
      const bus = await createBus({
        redisUrl: target,
        prefix: 'mcp:',
        streamMaxLen: 100,
        source,
        agentId: '-',
        logger: silentLogger,
      });
      const coordination = await createCoordination({
        redisUrl: target,
        prefix: 'mcp:',
        lockTtlMs: 60_000,
        agentTtlMs: 30_000,
        workspaceRoot: '/repo',
        bus,
        source,
      });
      opened.push(
        () => bus.close(),
        () => coordination.close(),
      );
      await waitForStatus(bus, 'connected');
      return { bus, coordination };
    };
    const one = await coordinator('layout-1');
    const two = await coordinator('layout-2');
    const heard = collect(two.bus);

    await one.coordination.tasks.create(
      { taskId: 'T-1', title: 'three files', files: ['a.ts', 'b.ts', 'c.ts'] },
      'lead',
    );
    const claim = await one.coordination.tasks.claim('T-1', 'agent-a');
    assert.ok(claim.ok);
    await one.coordination.tasks.logStep('T-1', 'agent-a', 'one', {});
    await one.coordination.state.set('k', 1, 'agent-a');
    await one.coordination.agents.register('agent-a', { name: 'cursor' });
    const conflicts = await two.coordination.tasks.detectConflicts(['a.ts', 'b.ts', 'z.ts'], 'agent-b');
    assert.deepEqual(
      conflicts.map((c) => c.file),
      ['a.ts', 'b.ts'],
    );
    await waitUntil(
      () => heard.events.some((e) => e.type === 'task:claimed'),
      'task:claimed heard by the other coordinator',
    );

    const raw = openRedis(target, {});
    opened.push(async () => raw.disconnect());
    await new Promise((resolve) => raw.once('ready', resolve));
    const keys = (await scanKeys(raw, '{mcp}:*')).sort();
    assert.deepEqual(keys, [
      '{mcp}:agent-owners:agent-a',
      '{mcp}:agent:agent-a',
      '{mcp}:agents',
      '{mcp}:lock:a.ts',
      '{mcp}:lock:b.ts',
      '{mcp}:lock:c.ts',
      '{mcp}:state:k',
      '{mcp}:tasks',
      '{mcp}:tasks:claimed-files',
      '{mcp}:tasks:log:T-1',
      '{mcp}:tasks:open',
    ]);
    const slots = new Set(
      await Promise.all(keys.map((k) => (raw as Cluster).cluster('KEYSLOT', k) as Promise<number>)),
    );
    assert.equal(slots.size, 1, 'one slot for the whole store');
  });
});
