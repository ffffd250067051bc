import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { memoryEnv, redisEnv } from './coordination-env.js';
import { runLockContract } from './locks-suite.js';

const redis = await startRedis();
after(() => redis.stop());

runLockContract('memory', memoryEnv);
runLockContract(
  'redis',
  redisEnv(() => redis.url),
);
