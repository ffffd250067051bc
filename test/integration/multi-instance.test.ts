/**
 * Two built `serve --http` instances on one real Redis, behind a plain round-robin balancer
 * (test/fixtures/balancer.mjs: every request to the next instance, no affinity). Modern requests
 * and REST are served by whichever instance the balancer picks, and see the same locks, tasks,
 * state and events; a legacy session (v2 SDK legacy, v1 SDK) is forwarded to the instance that
 * holds it; an input_required retry finds its parked exchange on the instance that minted it.
 * Every answer names the instance that served it (`x-mcp-coordinator-instance`), and a forwarded
 * one the instance that received it (`x-mcp-coordinator-via`): that is what the assertions read.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1HttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client,
  isInputRequiredResult,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type ClientCapabilities,
} from '@modelcontextprotocol/client';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { fixtureServer, modernServer, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, type HttpCoordinator } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
// @ts-expect-error: a plain JS fixture without types
import { startBalancer } from '../fixtures/balancer.mjs';

interface Balancer {
  url: string;
  hits: number[];
  close(): Promise<void>;
}

const INSTANCE = 'x-mcp-coordinator-instance';
const VIA = 'x-mcp-coordinator-via';
const FORWARDED = 'x-mcp-coordinator-forwarded-by';

const text = (result: unknown) =>
  ((result as CallToolResult).content[0] as { type: 'text'; text: string } | undefined)?.text;

/** One HTTP exchange a client made: the JSON-RPC methods it sent and who answered. */
interface Seen {
  httpMethod: string;
  methods: string[];
  status: number;
  instance: string | null;
  via: string | null;
}

/** A fetch for the SDK transports that records every answer's instance headers. */
function recorder() {
  const seen: Seen[] = [];
  const fetchFn = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    let methods: string[] = [];
    if (typeof init?.body === 'string') {
      const body = JSON.parse(init.body) as { method?: string } | Array<{ method?: string }>;
      methods = (Array.isArray(body) ? body : [body]).flatMap((m) => (m.method ? [m.method] : []));
    }
    seen.push({
      httpMethod: init?.method ?? 'GET',
      methods,
      status: response.status,
      instance: response.headers.get(INSTANCE),
      via: response.headers.get(VIA),
    });
    return response;
  };
  return { seen, fetch: fetchFn };
}

async function v2(
  url: string,
  era: 'modern' | 'legacy',
  name: string,
  rec: ReturnType<typeof recorder>,
  extra: { capabilities?: ClientCapabilities; manualInput?: boolean } = {},
): Promise<Client> {
  const client = new Client(
    { name, version: '1.0.0' },
    {
      capabilities: extra.capabilities ?? {},
      versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' },
      ...(extra.manualInput && { inputRequired: { autoFulfill: false } }),
    },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { fetch: rec.fetch }));
  return client;
}

/** tools/call that hands an input_required result back instead of fulfilling it. */
const rawCall = (client: Client, params: Record<string, unknown>) =>
  client.request({ method: 'tools/call', params } as never, z.custom<Record<string, unknown>>(), {
    allowInputRequired: true,
  } as never) as Promise<Record<string, unknown>>;

type Health = { servers: Record<string, { status: string }> };

/** The instances that answered a recorder's tools/call requests. */
const callInstances = (rec: ReturnType<typeof recorder>) =>
  new Set(rec.seen.filter((s) => s.methods.includes('tools/call')).map((s) => s.instance));

describe('two instances, one Redis, a round-robin balancer in front', () => {
  const dir = tempDir();
  const prefix = `multi-${randomBytes(3).toString('hex')}:`;
  let redis: RedisServer;
  let a: HttpCoordinator;
  let b: HttpCoordinator;
  let balancer: Balancer;
  let store: Redis;
  /** Instance tag → its direct URL. */
  const urlOf = new Map<string, string>();
  let tagA = '';
  let tagB = '';

  before(async () => {
    redis = await startRedis();
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old', '--introspect'), neo: modernServer('neo') },
      coordination: { redis: redis.url, prefix, secret: 'a-shared-secret-of-enough-length-for-tests' },
      health: { intervalMs: 500 },
    });
    [a, b] = await Promise.all([startHttp(file), startHttp(file)]);
    for (const c of [a, b]) {
      await waitFor(
        async () => {
          const servers = ((await api(c.url, '/status')).json as Health).servers ?? {};
          return servers.old?.status === 'healthy' && servers.neo?.status === 'healthy';
        },
        20_000,
        `both servers healthy on ${c.url}`,
      );
    }
    tagA = (await api(a.url, '/health')).headers.get(INSTANCE)!;
    tagB = (await api(b.url, '/health')).headers.get(INSTANCE)!;
    urlOf.set(tagA, a.url).set(tagB, b.url);
    balancer = (await startBalancer([a.url, b.url])) as Balancer;
    store = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await store.connect();
  });
  after(async () => {
    store?.disconnect();
    await balancer?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    dir.remove();
  });

  test('each instance announces its own URL in Redis under the configured prefix', async () => {
    assert.match(tagA, /^[0-9a-f]{12}$/);
    assert.notEqual(tagA, tagB);
    const entries = await store.hgetall(`${prefix}instances`);
    assert.deepEqual(Object.keys(entries).sort(), [tagA, tagB].sort());
    for (const [tag, json] of Object.entries(entries)) {
      const entry = JSON.parse(json) as { url: string; seen: number };
      assert.equal(entry.url, urlOf.get(tag));
      assert.ok(Math.abs(Date.now() - entry.seen) < 30_000, 'seen is a recent Redis-clock time');
    }
  });

  test('legacy sessions (v2 SDK legacy and v1 SDK) stick to their instance: 20 calls each, whichever instance receives them', async () => {
    const recV2 = recorder();
    const legacy = await v2(balancer.url, 'legacy', 'legacy-ide', recV2);
    const recV1 = recorder();
    const v1 = new V1Client({ name: 'v1-ide', version: '1.0.0' }, { capabilities: {} });
    await v1.connect(new V1HttpTransport(new URL(`${balancer.url}/mcp`), { fetch: recV1.fetch }));
    try {
      const hitsBefore = [...balancer.hits];
      for (let i = 0; i < 20; i++) {
        const result = await legacy.callTool({ name: 'old__echo', arguments: { text: `l${i}` } });
        assert.equal(text(result), `l${i}`);
      }
      for (let i = 0; i < 20; i++) {
        const result = await v1.callTool({ name: 'neo__echo', arguments: { text: `v${i}` } });
        assert.equal(text(result), `v${i}`);
      }
      assert.ok(balancer.hits[0]! - hitsBefore[0]! >= 20 && balancer.hits[1]! - hitsBefore[1]! >= 20);
      for (const [name, rec] of [
        ['v2 legacy', recV2],
        ['v1', recV1],
      ] as const) {
        const calls = rec.seen.filter((s) => s.methods.includes('tools/call'));
        assert.equal(calls.length, 20, name);
        assert.ok(
          calls.every((s) => s.status === 200),
          `${name}: ${JSON.stringify(calls.filter((s) => s.status !== 200))}`,
        );
        // One instance served every call of the session; about half were received by the other
        // one and forwarded (the balancer alternates).
        const owners = new Set(calls.map((s) => s.instance));
        assert.equal(owners.size, 1, `${name}: one owner, got ${[...owners].join(', ')}`);
        const owner = [...owners][0]!;
        assert.ok(owner === tagA || owner === tagB);
        const forwarded = calls.filter((s) => s.via !== null);
        assert.ok(forwarded.length >= 8 && forwarded.length <= 12, `${name}: ${forwarded.length} forwarded`);
        assert.ok(forwarded.every((s) => s.via !== owner && (s.via === tagA || s.via === tagB)));
        const received = new Set(calls.map((s) => s.via ?? s.instance));
        assert.deepEqual([...received].sort(), [tagA, tagB].sort(), `${name}: both instances received calls`);
      }
      // The session ids carry the owner's tag.
      const sessionId = (legacy.transport as StreamableHTTPClientTransport).sessionId!;
      const owner = recV2.seen.find((s) => s.methods.includes('tools/call'))!.instance!;
      assert.ok(sessionId.startsWith(`${owner}.`), sessionId);
      const other = owner === tagA ? tagB : tagA;
      assert.ok(
        /forwarding a session of [0-9a-f]{12} to its instance/.test(a.stderr() + b.stderr()),
        'the forward is logged',
      );
      // The loop guard: a request already forwarded once is not forwarded again (404 there).
      const guarded = await fetch(`${urlOf.get(other)}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
          [FORWARDED]: 'some-instance',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(guarded.status, 404);
      assert.equal(guarded.headers.get(INSTANCE), other);
    } finally {
      await Promise.all([legacy.close(), v1.close()]);
    }
  });

  test('a session of an unknown instance is "not found" everywhere: the client initializes again', async () => {
    for (const url of [a.url, b.url, balancer.url]) {
      const r = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': `0badc0ffee00.${randomUUID()}`,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(r.status, 404, url);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /Session not found/);
    }
  });

  test('modern requests are served by both instances alike: 20 calls', async () => {
    const rec = recorder();
    const modern = await v2(balancer.url, 'modern', 'modern-ide', rec);
    try {
      for (let i = 0; i < 20; i++) {
        const result = await modern.callTool({
          name: i % 2 ? 'neo__echo' : 'old__echo',
          arguments: { text: `m${i}` },
        });
        assert.equal(text(result), `m${i}`);
      }
      const calls = rec.seen.filter((s) => s.methods.includes('tools/call'));
      assert.equal(calls.length, 20);
      assert.ok(
        calls.every((s) => s.via === null),
        'a modern request is never forwarded',
      );
      const served = calls.map((s) => s.instance);
      // The balancer alternates: 10 each (give or take one if anything else went through it).
      assert.ok(served.filter((t) => t === tagA).length >= 9, served.join(' '));
      assert.ok(served.filter((t) => t === tagB).length >= 9, served.join(' '));
    } finally {
      await modern.close();
    }
  });

  test('locks, tasks and events are the same whichever instance answers', async () => {
    const recHolder = recorder();
    const recOther = recorder();
    const holder = await v2(balancer.url, 'modern', 'holder-ide', recHolder);
    const other = await v2(balancer.url, 'modern', 'other-ide', recOther);
    try {
      const lock = await holder.callTool({
        name: 'coordinator__lock_file',
        arguments: { file: 'shared.txt' },
      });
      assert.notEqual(lock.isError, true, text(lock));
      // Attempts until both instances have answered one (the balancer alternates: two, unless
      // something else went through it in between): every one refused, naming the same holder.
      const refusals = [];
      for (let i = 0; i < 6 && (i < 2 || callInstances(recOther).size < 2); i++) {
        const refused = await other.callTool({
          name: 'coordinator__lock_file',
          arguments: { file: 'shared.txt' },
        });
        assert.equal(refused.isError, true);
        refusals.push((refused.structuredContent as { holder: string }).holder);
      }
      assert.match(refusals[0]!, /^holder-ide@/);
      assert.equal(new Set(refusals).size, 1);
      const refusedBy = recOther.seen.filter((s) => s.methods.includes('tools/call')).map((s) => s.instance);
      assert.deepEqual([...new Set(refusedBy)].sort(), [tagA, tagB].sort());

      // REST on each instance directly: one lock, one holder.
      for (const url of [a.url, b.url]) {
        const locks = await api(url, '/api/locks');
        assert.equal(locks.status, 200);
        const list = locks.json.locks as Array<{ holder: string; file: string }>;
        assert.equal(list.length, 1, url);
        assert.equal(list[0]!.holder, refusals[0]);
      }

      // A task claimed through one instance is held there for everyone: the other agent is
      // refused on both instances, and REST on each shows the one holder.
      const claim = await holder.callTool({
        name: 'coordinator__claim_task',
        arguments: { taskId: 'multi-1' },
      });
      assert.notEqual(claim.isError, true, text(claim));
      recOther.seen.length = 0;
      for (let i = 0; i < 6 && (i < 2 || callInstances(recOther).size < 2); i++) {
        const refused = await other.callTool({
          name: 'coordinator__claim_task',
          arguments: { taskId: 'multi-1' },
        });
        assert.equal(refused.isError, true, text(refused));
      }
      const claimRefusedBy = recOther.seen
        .filter((s) => s.methods.includes('tools/call'))
        .map((s) => s.instance);
      assert.deepEqual([...new Set(claimRefusedBy)].sort(), [tagA, tagB].sort());
      for (const url of [a.url, b.url]) {
        const tasks = await api(url, '/api/tasks?status=claimed');
        const task = (tasks.json.tasks as Array<{ taskId: string; agentId: string }>).find(
          (t) => t.taskId === 'multi-1',
        );
        assert.ok(task, `${url}: ${JSON.stringify(tasks.json)}`);
        assert.equal(task.agentId, refusals[0]);
      }

      // Events: the lock and the task seen by either instance.
      for (let i = 0; i < 2; i++) {
        const events = await other.callTool({ name: 'coordinator__events', arguments: { limit: 100 } });
        const types = ((events.structuredContent as { events: Array<{ type: string }> }).events ?? []).map(
          (e) => e.type,
        );
        for (const type of ['file:locked', 'task:claimed'])
          assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
      }

      const unlock = await holder.callTool({
        name: 'coordinator__unlock_file',
        arguments: { file: 'shared.txt' },
      });
      assert.notEqual(unlock.isError, true, text(unlock));
      for (const url of [a.url, b.url]) {
        const locks = await api(url, '/api/locks');
        assert.deepEqual(locks.json.locks, [], url);
      }
    } finally {
      await Promise.all([holder.close(), other.close()]);
    }
  });

  test("input_required through the balancer: a modern downstream's (sealed, any instance) and a parked exchange (forwarded to its owner)", async () => {
    const rec = recorder();
    const client = await v2(balancer.url, 'modern', 'asking-ide', rec, {
      capabilities: { elicitation: { form: {} } },
    });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: true } }));
    try {
      // neo answers input_required itself; the retry lands on the other instance and goes to
      // that instance's own neo with the state sealed by the shared secret.
      // (Tried again only if something else went through the balancer in between.)
      let confirm: Seen[] = [];
      for (let i = 0; i < 3 && (i === 0 || confirm[0]!.instance === confirm[1]!.instance); i++) {
        rec.seen.length = 0;
        assert.equal(
          text(await client.callTool({ name: 'neo__confirm', arguments: { thing: 'deploy' } })),
          'confirmed deploy',
        );
        confirm = rec.seen.filter((s) => s.methods.includes('tools/call'));
        assert.equal(confirm.length, 2, 'the call and its retry');
      }
      assert.notEqual(confirm[0]!.instance, confirm[1]!.instance);

      // old (legacy) asks mid-call: its request waits in the instance that took the call; the
      // retry, received by the other instance, is forwarded there.
      let ask: Seen[] = [];
      for (let i = 0; i < 3 && (i === 0 || ask[1]!.via === null); i++) {
        rec.seen.length = 0;
        assert.equal(
          text(await client.callTool({ name: 'old__ask', arguments: { thing: 'ship' } })),
          'confirmed ship',
        );
        ask = rec.seen.filter((s) => s.methods.includes('tools/call'));
        assert.equal(ask.length, 2, 'the call and its retry');
      }
      const [first, retry] = ask as [Seen, Seen];
      assert.equal(first.via, null);
      assert.equal(
        retry.instance,
        first.instance,
        'the retry was answered by the instance holding the exchange',
      );
      assert.ok(retry.via !== null && retry.via !== first.instance, 'received by the other instance');
    } finally {
      await client.close();
    }
  });

  test('a parked exchange: forwarded from any instance; a clear error where its owner cannot be reached', async () => {
    const recA = recorder();
    const onA = await v2(a.url, 'modern', 'manual-ide', recA, {
      capabilities: { elicitation: { form: {} } },
      manualInput: true,
    });
    const recB = recorder();
    const onB = await v2(b.url, 'modern', 'manual-ide', recB, {
      capabilities: { elicitation: { form: {} } },
      manualInput: true,
    });
    try {
      const first = await rawCall(onA, { name: 'old__ask', arguments: { thing: 'twice' } });
      assert.ok(isInputRequiredResult(first));
      const key = Object.keys(first.inputRequests ?? {})[0]!;
      const retry = {
        name: 'old__ask',
        arguments: { thing: 'twice' },
        inputResponses: { [key]: { action: 'accept', content: { ok: true } } },
        requestState: first.requestState,
      };
      // Sent to B directly: B forwards it to A, which holds the exchange.
      assert.equal(text(await rawCall(onB, retry)), 'confirmed twice');
      const last = recB.seen.at(-1)!;
      assert.equal(last.instance, tagA);
      assert.equal(last.via, tagB);

      // A retry that was already forwarded once (the loop guard) and is not A's: a clear error
      // from B, and nothing reaches a downstream.
      const again = await rawCall(onA, { name: 'old__ask', arguments: { thing: 'guarded' } });
      assert.ok(isInputRequiredResult(again));
      const guardedKey = Object.keys(again.inputRequests ?? {})[0]!;
      const response = await fetch(`${b.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          [FORWARDED]: 'some-instance',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 41,
          method: 'tools/call',
          params: {
            name: 'old__ask',
            arguments: { thing: 'guarded' },
            inputResponses: { [guardedKey]: { action: 'accept', content: { ok: true } } },
            requestState: again.requestState,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'manual-ide', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
            },
          },
        }),
      });
      const body = (await response.json()) as { id: number; error: { code: number; message: string } };
      assert.equal(body.id, 41);
      assert.equal(body.error.code, -32602);
      assert.match(body.error.message, new RegExp(`lives on another coordinator instance \\(${tagA}\\)`));
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });

  test("the event stream of one instance carries what another instance's clients did", async () => {
    const abort = new AbortController();
    const stream = await fetch(`${b.url}/api/events/stream?type=file:*`, { signal: abort.signal });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    let seen = '';
    await api(a.url, '/route', {
      body: { tool: 'coordinator__lock_file', arguments: { file: 'via-a.txt' } },
    });
    try {
      await waitFor(
        async () => {
          const { value } = await reader.read();
          seen += new TextDecoder().decode(value);
          return seen.includes('via-a.txt');
        },
        10_000,
        "A's lock event on B's stream",
      );
    } finally {
      abort.abort();
      await api(a.url, '/route', {
        body: { tool: 'coordinator__unlock_file', arguments: { file: 'via-a.txt' } },
      });
    }
  });

  test('an instance that shuts down withdraws from Redis; its sessions are then "not found" on the others', async () => {
    const rec = recorder();
    const legacy = await v2(b.url, 'legacy', 'leaving-ide', rec);
    const sessionId = (legacy.transport as StreamableHTTPClientTransport).sessionId!;
    assert.ok(sessionId.startsWith(`${tagB}.`));
    await legacy.close();
    assert.equal(await b.stop(), 0);
    assert.deepEqual(Object.keys(await store.hgetall(`${prefix}instances`)), [tagA]);
    const r = await fetch(`${a.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(r.status, 404);
  });
});
