/**
 * The behaviour every EventBus backend owes its callers, run against each implementation.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/shared/errors.js';
import { createEvent, signEvent, verifyEvent } from '../../src/coordination/events.js';
import type { BusStatus, CoordinationEvent, EventBus } from '../../src/coordination/types.js';

export interface BusHarness {
  bus: EventBus;
  cleanup(): Promise<void>;
  /** Hands raw JSON to the bus the way a peer would (Redis: PUBLISH on its channel). */
  inject(json: string): Promise<void>;
}

export interface MakeBusOptions {
  secret?: string;
}

export type MakeBus = (options?: MakeBusOptions) => Promise<BusHarness>;

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function waitForStatus(bus: EventBus, status: BusStatus, timeoutMs = 10_000): Promise<void> {
  return waitUntil(() => bus.status === status, `bus status ${status}`, timeoutMs);
}

/** Subscribes and records; `waitFor(n)` resolves once n events arrived. */
export function collect(bus: EventBus, glob?: string) {
  const events: CoordinationEvent[] = [];
  const unsubscribe = bus.subscribe((e) => events.push(e), glob);
  return {
    events,
    unsubscribe,
    waitFor: (n: number, timeoutMs?: number) =>
      waitUntil(() => events.length >= n, `${n} events (have ${events.length})`, timeoutMs),
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function runBusContract(name: string, makeBus: MakeBus): void {
  describe(`EventBus contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const make = async (options?: MakeBusOptions) => {
      const harness = await makeBus(options);
      cleanups.push(harness.cleanup);
      return harness;
    };
    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map((c) => c()));
    });

    it('publishes a contract-shaped event that subscribers receive unchanged', async () => {
      const { bus } = await make();
      const seen = collect(bus);
      const event = bus.publish({ type: 'file:locked', data: { file: 'src/a.ts', reason: 'edit' } });
      assert.deepEqual(Object.keys(event).sort(), ['agentId', 'data', 'id', 'source', 'timestamp', 'type']);
      assert.equal(event.type, 'file:locked');
      assert.equal(event.source, 'test-source');
      assert.equal(event.agentId, 'test-agent');
      assert.match(event.timestamp, ISO);
      assert.ok(event.id.length > 0);
      await seen.waitFor(1);
      assert.deepEqual(seen.events, [event]);
      assert.equal(bus.publish({ type: 'agent:left', data: {}, agentId: 'other' }).agentId, 'other');
    });

    it('never re-enters the publisher: handlers run after publish returns', async () => {
      const { bus } = await make();
      let publishing = false;
      const calledDuringPublish: boolean[] = [];
      bus.subscribe((e) => {
        calledDuringPublish.push(publishing);
        if (e.type === 'task:claimed') bus.publish({ type: 'task:completed', data: {} });
      });
      publishing = true;
      bus.publish({ type: 'task:claimed', data: {} });
      publishing = false;
      await waitUntil(() => calledDuringPublish.length === 2, 'the nested publish');
      assert.deepEqual(calledDuringPublish, [false, false]);
    });

    it('filters by type glob: *, a family, an exact type, a comma list', async () => {
      const { bus } = await make();
      const all = collect(bus, '*');
      const files = collect(bus, 'file:*');
      const exact = collect(bus, 'task:claimed');
      const list = collect(bus, 'task:claimed, agent:*');
      for (const type of ['file:locked', 'task:claimed', 'agent:registered', 'file:unlocked'] as const) {
        bus.publish({ type, data: {} });
      }
      await all.waitFor(4);
      const types = (c: ReturnType<typeof collect>) => c.events.map((e) => e.type);
      assert.deepEqual(types(files), ['file:locked', 'file:unlocked']);
      assert.deepEqual(types(exact), ['task:claimed']);
      assert.deepEqual(types(list), ['task:claimed', 'agent:registered']);
    });

    it('stops delivering after unsubscribe, and one throwing handler does not stop the others', async () => {
      const { bus } = await make();
      const gone = collect(bus);
      gone.unsubscribe();
      bus.subscribe(() => {
        throw new Error('handler bug');
      });
      const kept = collect(bus);
      bus.publish({ type: 'health:degraded', data: {} });
      bus.publish({ type: 'health:recovered', data: {} });
      await kept.waitFor(2);
      assert.equal(gone.events.length, 0);
      assert.equal(bus.stats().published, 2);
      assert.equal(bus.stats().delivered, 2);
    });

    it('delivers in publication order, with ids that sort in that order', async () => {
      const { bus } = await make();
      const seen = collect(bus);
      const sent = Array.from({ length: 500 }, (_, i) => bus.publish({ type: 'file:locked', data: { i } }));
      await seen.waitFor(500);
      assert.deepEqual(
        seen.events.map((e) => e.data.i),
        sent.map((e) => e.data.i),
      );
      const ids = sent.map((e) => e.id);
      assert.deepEqual([...ids].sort(), ids);
      assert.equal(new Set(ids).size, ids.length);
    });

    it('replays history oldest first, filtered by type and limited', async () => {
      const { bus } = await make();
      const seen = collect(bus);
      const sent = ['file:locked', 'task:claimed', 'file:unlocked', 'task:completed', 'file:locked'].map(
        (type, i) => bus.publish({ type: type as CoordinationEvent['type'], data: { i } }),
      );
      await seen.waitFor(sent.length);
      assert.deepEqual(await bus.replay(), sent);
      assert.deepEqual(
        (await bus.replay({ type: 'file:*' })).map((e) => e.data.i),
        [0, 2, 4],
      );
      // Without `since`, a limit keeps the most recent matches.
      assert.deepEqual(
        (await bus.replay({ type: 'file:*', limit: 2 })).map((e) => e.data.i),
        [2, 4],
      );
      assert.deepEqual(await bus.replay({ limit: 0 }), []);
    });

    it('replays since an event id, and since a time (ISO or epoch ms)', async () => {
      const { bus } = await make();
      const seen = collect(bus);
      const first = bus.publish({ type: 'task:claimed', data: { n: 1 } });
      const second = bus.publish({ type: 'task:completed', data: { n: 2 } });
      await seen.waitFor(2);
      await sleep(20);
      const cut = Date.now();
      await sleep(5);
      const third = bus.publish({ type: 'task:released', data: { n: 3 } });
      const fourth = bus.publish({ type: 'file:locked', data: { n: 4 } });
      await seen.waitFor(4);
      assert.deepEqual(await bus.replay({ since: first.id }), [second, third, fourth]);
      // With since, a limit keeps the first matches.
      assert.deepEqual(await bus.replay({ since: first.id, limit: 1 }), [second]);
      assert.deepEqual(await bus.replay({ since: first.id, type: 'task:*' }), [second, third]);
      assert.deepEqual(await bus.replay({ since: new Date(cut).toISOString() }), [third, fourth]);
      assert.deepEqual(await bus.replay({ since: String(cut) }), [third, fourth]);
      assert.deepEqual(await bus.replay({ since: fourth.id }), []);
    });

    it('rejects a since or limit it cannot read with InvalidArgumentError', async () => {
      const { bus } = await make();
      await assert.rejects(bus.replay({ since: 'yesterday-ish' }), InvalidArgumentError);
      await assert.rejects(bus.replay({ limit: -1 }), InvalidArgumentError);
    });

    it('signs events with a secret and delivers the signed event', async () => {
      const { bus } = await make({ secret: 's3cret' });
      const seen = collect(bus);
      const event = bus.publish({ type: 'file:locked', data: { file: 'a' } });
      assert.match(event.signature ?? '', /^[0-9a-f]{64}$/);
      assert.equal(verifyEvent(event, 's3cret', Date.now()), 'ok');
      assert.equal(verifyEvent(event, 'other', Date.now()), 'forged');
      await seen.waitFor(1);
      assert.deepEqual(seen.events, [event]);
      assert.deepEqual(await bus.replay(), [event]);
    });

    it('fixes an event at publish time: later changes to the caller’s data are not delivered', async () => {
      const { bus } = await make({ secret: 's3cret' });
      const seen = collect(bus);
      const data = { file: 'a.ts' };
      bus.publish({ type: 'file:locked', data });
      data.file = 'changed.ts';
      await seen.waitFor(1);
      assert.equal(seen.events[0]!.data.file, 'a.ts');
      assert.equal(bus.stats().rejected, 0);
    });

    it('with a secret, drops and counts unsigned, forged (data or agent id), old, replayed and malformed events', async () => {
      const { bus, inject } = await make({ secret: 's3cret' });
      const seen = collect(bus);
      const peer = (data: Record<string, unknown>, clock = Date.now) =>
        createEvent({ type: 'file:locked', data }, { source: 'peer', agentId: 'peer-agent', clock });
      const fresh = signEvent(peer({ what: 'fresh' }), 's3cret');
      const tampered = { ...signEvent(peer({ what: 'x' }), 's3cret'), data: { what: 'tampered' } };
      // The signature covers the agent: a signed event re-labelled as another agent's is forged.
      const impersonated = { ...signEvent(peer({ what: 'impersonated' }), 's3cret'), agentId: 'lead-agent' };
      const old = signEvent(
        peer({ what: 'old' }, () => Date.now() - 120_000),
        's3cret',
      );
      await inject(JSON.stringify(peer({ what: 'unsigned' })));
      await inject(JSON.stringify(tampered));
      await inject(JSON.stringify(impersonated));
      await inject(JSON.stringify(signEvent(peer({ what: 'wrong key' }), 'guess')));
      await inject(JSON.stringify(old));
      await inject(JSON.stringify(fresh));
      await inject(JSON.stringify(fresh));
      await inject('{not json');
      // Eight injected: each is taken or refused (the bus's own events are no barrier: they reach
      // its subscribers without the round trip through Redis).
      await waitUntil(
        () => bus.stats().rejected + seen.events.length >= 8,
        'every injected event to be taken or refused',
      );
      assert.deepEqual(
        seen.events.map((e) => e.data.what),
        ['fresh'],
      );
      assert.equal(bus.stats().rejected, 7);
    });

    it('without a secret, accepts events from peers whether signed or not', async () => {
      const { bus, inject } = await make();
      const seen = collect(bus);
      const unsigned = createEvent({ type: 'tools:changed', data: {} }, { source: 'peer', agentId: 'p' });
      await inject(JSON.stringify(unsigned));
      await inject(JSON.stringify(signEvent({ ...unsigned, id: `${unsigned.id}x` }, 'k')));
      await seen.waitFor(2);
      assert.deepEqual(seen.events[0], unsigned);
      assert.equal(bus.stats().rejected, 0);
    });

    it('closes idempotently; publish after close neither throws nor delivers', async () => {
      const { bus } = await make();
      const seen = collect(bus);
      await bus.close();
      await bus.close();
      const late = bus.publish({ type: 'agent:left', data: {} });
      assert.equal(late.type, 'agent:left');
      await sleep(20);
      assert.equal(seen.events.length, 0);
    });
  });
}
