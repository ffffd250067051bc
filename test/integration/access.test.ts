/**
 * coordination.access through the built CLI (`serve --http`, two API keys acting as two agents):
 * one agent is refused a downstream tool, a file lock and a claim of a task with such a file,
 * each `isError` naming the rule and announced as `access:denied`; the other agent is not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { fixtureServer, startV2, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, v2Client, type HttpCoordinator } from '../helpers/http.js';

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef00';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

type Result = { isError?: boolean; structuredContent?: Record<string, unknown>; content: unknown[] };

describe('coordination.access: two agents, one refused', () => {
  const dir = tempDir();
  let c: HttpCoordinator;
  let alice: Client;
  let bob: Client;
  const call = async (client: Client, name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as Result;

  before(async () => {
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old') },
      coordination: {
        workspaceRoot: dir.path,
        access: [
          { agent: 'bob-*', tools: { deny: ['old__echo'] }, files: { deny: ['secrets/**'] } },
          { agent: '*', events: { deny: ['cache:invalidate'] } },
        ],
      },
      http: {
        auth: {
          keys: [
            { name: 'alice', key: ALICE, scopes: ['read', 'call'], agent: 'alice-bot' },
            { name: 'bob', key: BOB, scopes: ['read', 'call'], agent: 'bob-bot' },
          ],
        },
      },
    });
    c = await startHttp(file);
    await waitFor(async () => (await api(c.url, '/health')).json.status === 'ok', 20_000, 'old healthy');
    alice = await v2Client(c.url, { era: 'modern', headers: bearer(ALICE), name: 'alice' });
    bob = await v2Client(c.url, { era: 'legacy', headers: bearer(BOB), name: 'bob' });
  });
  after(async () => {
    await alice?.close().catch(() => {});
    await bob?.close().catch(() => {});
    await c?.stop();
    dir.remove();
  });

  test('a downstream tool: refused to bob naming the rule, allowed to alice', async () => {
    const refused = await call(bob, 'old__echo', { text: 'hi' });
    assert.equal(refused.isError, true);
    const s = refused.structuredContent!;
    assert.equal(s.denied, true);
    assert.deepEqual(s.rule, { index: 0, agent: 'bob-*' });
    assert.equal(s.kind, 'tool');
    assert.equal(s.agentId, 'bob-bot');
    assert.match(String(s.error), /rule #0 \(agent "bob-\*"\).*"old__echo"/);
    // Through coordinator__route as well: the tool it would call is checked.
    const routed = await call(bob, 'coordinator__route', { tool: 'old__echo', arguments: { text: 'x' } });
    assert.equal(routed.isError, true);
    assert.equal(routed.structuredContent?.subject, 'old__echo');
    // coordinator__aggregate by the name the server knows: every exposed tool it reaches.
    const fanned = await call(bob, 'coordinator__aggregate', { tool: 'echo', arguments: { text: 'x' } });
    assert.equal(fanned.isError, true);
    assert.equal(fanned.structuredContent?.subject, 'old__echo');

    const allowed = await call(alice, 'old__echo', { text: 'hi' });
    assert.notEqual(allowed.isError, true);
  });

  test('a file: bob may not lock or claim under secrets/, alice may', async () => {
    const refused = await call(bob, 'coordinator__lock_file', { file: 'secrets/key.pem' });
    assert.equal(refused.isError, true);
    assert.equal(refused.structuredContent?.kind, 'file');
    assert.equal(refused.structuredContent?.subject, 'secrets/key.pem');
    assert.notEqual((await call(bob, 'coordinator__lock_file', { file: 'src/a.ts' })).isError, true);

    await call(alice, 'coordinator__create_task', {
      taskId: 'rotate',
      title: 'rotate keys',
      files: ['secrets/key.pem'],
    });
    const claim = await call(bob, 'coordinator__claim_task', { taskId: 'rotate' });
    assert.equal(claim.isError, true);
    assert.equal(claim.structuredContent?.subject, 'secrets/key.pem');
    const locks = (await call(bob, 'coordinator__list_locks', {})).structuredContent as {
      locks: Array<{ file: string }>;
    };
    assert.ok(!locks.locks.some((l) => l.file === 'secrets/key.pem'), 'nothing was locked');

    assert.notEqual((await call(alice, 'coordinator__claim_task', { taskId: 'rotate' })).isError, true);
  });

  test('an event: the second rule keeps everyone from invalidating caches', async () => {
    const refused = await call(alice, 'coordinator__invalidate_cache', { pattern: 'old__*' });
    assert.equal(refused.isError, true);
    assert.equal(refused.structuredContent?.kind, 'event');
    assert.deepEqual(refused.structuredContent?.rule, { index: 1, agent: '*' });
  });

  test('each refusal is an access:denied event in coordinator__events', async () => {
    const events = (await call(alice, 'coordinator__events', { type: 'access:denied' }))
      .structuredContent as {
      events: Array<{ type: string; agentId: string; data: { kind: string; subject: string } }>;
    };
    const seen = events.events.map((e) => `${e.agentId} ${e.data.kind} ${e.data.subject}`);
    assert.deepEqual(seen, [
      'bob-bot tool old__echo',
      'bob-bot tool old__echo',
      'bob-bot tool old__echo',
      'bob-bot file secrets/key.pem',
      'bob-bot file secrets/key.pem',
      'alice-bot event cache:invalidate',
    ]);
  });
});

describe('coordination.access on stdio: the agent is $MCP_AGENT_ID', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('bob-* is refused the tool and the file, alice is not (modern and legacy)', async () => {
    const file = writeConfig(dir.path, {
      servers: { old: fixtureServer('old') },
      coordination: {
        workspaceRoot: dir.path,
        access: [{ agent: 'bob-*', tools: { deny: ['old__echo'] }, files: { deny: ['secrets/**'] } }],
      },
    });
    for (const [agent, era, refused] of [
      ['bob-stdio', 'modern', true],
      ['alice-stdio', 'legacy', false],
    ] as const) {
      const c = await startV2(file, { era, env: { MCP_AGENT_ID: agent } });
      try {
        const echo = (await waitFor(
          async () => {
            const r = (await c.client.callTool({ name: 'old__echo', arguments: { text: 'hi' } })) as Result;
            return r.structuredContent?.denied === true || r.isError !== true ? r : undefined;
          },
          20_000,
          'old__echo answered',
        )) as Result;
        assert.equal(echo.isError === true, refused, `${agent}: old__echo`);
        const lock = (await c.client.callTool({
          name: 'coordinator__lock_file',
          arguments: { file: 'secrets/k' },
        })) as Result;
        assert.equal(lock.isError === true, refused, `${agent}: lock secrets/k`);
        if (refused) assert.deepEqual(lock.structuredContent?.rule, { index: 0, agent: 'bob-*' });
      } finally {
        await c.close();
      }
    }
  });
});
