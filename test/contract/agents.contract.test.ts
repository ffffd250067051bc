import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { runAgentContract } from './agents-suite.js';
import { memoryEnv, redisEnv } from './coordination-env.js';

const redis = await startRedis();
after(() => redis.stop());

runAgentContract('memory', memoryEnv);
runAgentContract(
  'redis',
  redisEnv(() => redis.url),
);
