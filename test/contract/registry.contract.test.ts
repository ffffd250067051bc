import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { memoryEnv, redisEnv } from './coordination-env.js';
import { runRegistryContract } from './registry-suite.js';

const redis = await startRedis();
after(() => redis.stop());

runRegistryContract('memory', memoryEnv);
runRegistryContract(
  'redis',
  redisEnv(() => redis.url),
);
