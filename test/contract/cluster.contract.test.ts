/**
 * Every coordination contract suite over a real three-master Redis Cluster started on loopback:
 * locks, tasks, the board, agents, the server registry, shared state and the bus. The store's
 * keys carry one hash tag there (`{…}`), so each Lua script — a multi-file claim, a batch lock
 * lookup — runs on a single slot; events travel by cluster-wide PUBLISH.
 */
import { after } from 'node:test';

import { RedisBus } from '../../src/coordination/bus/redis.js';
import { openRedis } from '../../src/coordination/redis-connect.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { runAgentContract } from './agents-suite.js';
import { runBoardContract } from './board-suite.js';
import { runBusContract, waitForStatus } from './bus-suite.js';
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
    inject: async (json) => void (await raw.publish(`${prefix}events`, json)),
  };
});
