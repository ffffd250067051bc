/**
 * With `coordination.secret`, registry entries are signed like events: an entry written into
 * Redis by anyone without the secret (or edited there) is not listed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { createBus } from '../../src/coordination/bus/index.js';
import { createCoordination, type Coordination } from '../../src/coordination/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

describe('a signed registry in Redis', () => {
  let server: RedisServer;
  let coordination: Coordination;
  let raw: Redis;
  const logged: string[] = [];

  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    const logger = createLogger({ level: 'warn', write: (line) => logged.push(line) });
    coordination = await createCoordination({
      redisUrl: server.url,
      prefix: 'sig:',
      lockTtlMs: 60_000,
      agentTtlMs: 30_000,
      workspaceRoot: '/repo',
      secret: 'team-secret',
      logger,
      bus: await createBus({
        prefix: 'sig:',
        streamMaxLen: 100,
        source: 'sig',
        agentId: '-',
        secret: 'team-secret',
        logger,
      }),
      source: 'coord-sig',
    });
  });
  after(async () => {
    await coordination.close();
    raw.disconnect();
    await server.stop();
  });

  it('lists its own entries, not planted or edited ones', async () => {
    const base = { name: 'srv', version: '1', status: 'connected', transport: 'stdio' };
    await coordination.registry.upsert({ ...base, serverId: 'real', tools: ['read'] });
    await coordination.registry.upsert({ ...base, serverId: 'edited', tools: ['read'] });
    const edited = JSON.parse((await raw.hget('sig:servers:registry', 'edited'))!) as { tools: string[] };
    edited.tools = ['read', 'exfiltrate'];
    await raw.hset('sig:servers:registry', 'edited', JSON.stringify(edited));
    await raw.hset(
      'sig:servers:registry',
      'planted',
      JSON.stringify({
        ...base,
        serverId: 'planted',
        tools: ['x'],
        lastSeen: new Date().toISOString(),
        owner: 'evil',
      }),
    );
    const listed = await coordination.registry.list();
    assert.deepEqual(
      listed.map((e) => [e.serverId, e.tools]),
      [['real', ['read']]],
    );
    assert.equal('signature' in listed[0]!, false, 'the signature is not shown');
    assert.match(logged.join(''), /registry entries without a valid signature not shown.*edited.*planted/);
  });
});
