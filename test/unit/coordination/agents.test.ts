/** Agent heartbeats, sweeps and leave, driven by a fake clock over the memory store. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryAgentBackend } from '../../../src/coordination/agents/memory.js';
import type { AgentBackend } from '../../../src/coordination/agents/types.js';
import { MemoryBus } from '../../../src/coordination/bus/index.js';
import { assembleServices, memoryBackends } from '../../../src/coordination/index.js';
import type { CoordinationEvent } from '../../../src/coordination/types.js';
import { CoordinationUnavailableError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const TTL = 3_000;

/** The memory agent store, with a switch that makes every call fail like an unreachable Redis. */
class FlakyAgents implements AgentBackend {
  down = false;
  constructor(private readonly inner: AgentBackend) {}
  private gate<T>(fn: () => Promise<T>): Promise<T> {
    return this.down
      ? Promise.reject(new CoordinationUnavailableError('shared store unreachable: test'))
      : fn();
  }
  heartbeat: AgentBackend['heartbeat'] = (r, t) => this.gate(() => this.inner.heartbeat(r, t));
  remove: AgentBackend['remove'] = (id) => this.gate(() => this.inner.remove(id));
  expired: AgentBackend['expired'] = () => this.gate(() => this.inner.expired());
  claimExpired: AgentBackend['claimExpired'] = (id) => this.gate(() => this.inner.claimExpired(id));
  list: AgentBackend['list'] = () => this.gate(() => this.inner.list());
  get: AgentBackend['get'] = (id) => this.gate(() => this.inner.get(id));
}

function setup() {
  const clock = new ManualClock();
  const shared = memoryBackends(clock);
  const agentStore = new FlakyAgents(new MemoryAgentBackend(clock));
  const bus = new MemoryBus({ source: 's', agentId: '-', capacity: 1_000, logger: silentLogger });
  const events: CoordinationEvent[] = [];
  bus.subscribe((e) => events.push(e), 'agent:*');
  const peer = (source: string) =>
    assembleServices(
      { ...shared, agents: agentStore },
      { bus, source, lockTtlMs: 60_000, agentTtlMs: TTL, clock, logger: silentLogger },
    );
  const types = () => events.map((e) => `${e.type} ${e.agentId}${e.data.rejoined ? ' rejoined' : ''}`);
  return { clock, agentStore, peer, events, types };
}

describe('agents', () => {
  it('stays registered while heartbeats run, and is swept once they stop', async () => {
    const { clock, peer, types } = setup();
    const one = peer('one');
    const two = peer('two');
    await one.agents.register('agent-a', { name: 'a' });
    await clock.advance(TTL * 5);
    assert.deepEqual(types(), ['agent:registered agent-a']);
    one.agents.close(); // a crash: no more heartbeats
    await clock.advance(TTL + TTL / 3 + 1);
    assert.deepEqual(types(), ['agent:registered agent-a', 'agent:left agent-a']);
    assert.deepEqual(await two.agents.list(), []);
  });

  it('announces an agent again when its heartbeat finds it was swept', async () => {
    const { clock, peer, types } = setup();
    const one = peer('one');
    const two = peer('two');
    await one.agents.register('agent-a', { name: 'a' });
    one.agents.close(); // stalled, but still thinks it is registered
    await clock.advance(TTL + TTL / 3 + 1);
    assert.deepEqual(await two.agents.list(), []);
    await one.agents.tick();
    await clock.advance(0);
    assert.deepEqual(types(), [
      'agent:registered agent-a',
      'agent:left agent-a',
      'agent:registered agent-a rejoined',
    ]);
  });

  it('announces a registration made while the store was down once it is back', async () => {
    const { clock, agentStore, peer, types } = setup();
    const one = peer('one');
    agentStore.down = true;
    assert.equal(await one.agents.register('agent-a', { name: 'a' }), false);
    await clock.advance(TTL);
    assert.deepEqual(types(), []);
    agentStore.down = false;
    await clock.advance(TTL / 3);
    assert.deepEqual(types(), ['agent:registered agent-a']);
  });

  it('leaves announcing to the sweep when the store is down at leave time', async () => {
    const { clock, agentStore, peer, types } = setup();
    const one = peer('one');
    peer('two');
    await one.agents.register('agent-a', { name: 'a' });
    agentStore.down = true;
    await one.agents.leave('agent-a');
    assert.deepEqual(types(), ['agent:registered agent-a']);
    agentStore.down = false;
    await clock.advance(TTL + TTL / 3 + 1);
    assert.deepEqual(types(), ['agent:registered agent-a', 'agent:left agent-a']);
  });

  it('leaves once: a second leave announces nothing', async () => {
    const { clock, peer, types } = setup();
    const one = peer('one');
    await one.agents.register('agent-a', { name: 'a' });
    await one.agents.leave();
    await one.agents.leave('agent-a');
    await clock.advance(TTL * 2);
    assert.deepEqual(types(), ['agent:registered agent-a', 'agent:left agent-a']);
  });
});
