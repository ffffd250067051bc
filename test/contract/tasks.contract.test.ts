import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { memoryEnv, redisEnv } from './coordination-env.js';
import { runTaskContract } from './tasks-suite.js';

const redis = await startRedis();
after(() => redis.stop());

runTaskContract('memory', memoryEnv);
runTaskContract(
  'redis',
  redisEnv(() => redis.url),
);
