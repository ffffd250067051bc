import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { memoryEnv, redisEnv } from './coordination-env.js';
import { runStateContract } from './state-suite.js';

const redis = await startRedis();
after(() => redis.stop());

runStateContract('memory', memoryEnv);
runStateContract(
  'redis',
  redisEnv(() => redis.url),
);
