import { after } from 'node:test';

import { startRedis } from '../helpers/redis-server.js';
import { runBoardContract } from './board-suite.js';
import { memoryEnv, redisEnv } from './coordination-env.js';

const redis = await startRedis();
after(() => redis.stop());

runBoardContract('memory', memoryEnv);
runBoardContract(
  'redis',
  redisEnv(() => redis.url),
);
