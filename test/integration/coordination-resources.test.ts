/**
 * The coordinator's own resources through the built CLI on stdio, with the v2 SDK client in both
 * eras: the templates are listed before the downstreams', each reads as JSON, and a subscriber
 * (legacy resources/subscribe, modern subscriptions/listen) hears resources/updated when the task
 * is claimed or a step is logged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHttp, v2Client } from '../helpers/http.js';
import {
  fixtureServer,
  startV2,
  tempDir,
  waitFor,
  writeConfig,
  type StartedV2,
} from '../helpers/coordinator.js';

const TEMPLATES = [
  'tasks://{taskId}/state',
  'tasks://{taskId}/logs',
  'tasks://{taskId}/files',
  'agents://{agentId}/status',
  'collaboration://{taskId}',
];

type Contents = { uri: string; mimeType?: string; text?: string };

async function readJson(c: StartedV2, uri: string): Promise<Record<string, unknown>> {
  const result = await c.client.readResource({ uri });
  const first = result.contents[0] as Contents | undefined;
  assert.equal(first?.uri, uri);
  assert.equal(first?.mimeType, 'application/json');
  return JSON.parse(first?.text ?? 'null') as Record<string, unknown>;
}

async function call(c: StartedV2, name: string, args: Record<string, unknown>) {
  const result = await c.client.callTool({ name: `coordinator__${name}`, arguments: args });
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  return result.structuredContent as Record<string, unknown>;
}

for (const era of ['legacy', 'modern'] as const) {
  describe(`coordinator resources (${era} client)`, () => {
    const dir = tempDir();
    let c: StartedV2;
    const agent = `agent-${era}`;
    const taskId = `t-${era}`;

    before(async () => {
      const file = writeConfig(dir.path, {
        servers: { old: fixtureServer('old', '--resources', '1') },
        coordination: { workspaceRoot: dir.path },
      });
      c = await startV2(file, { era, env: { MCP_AGENT_ID: agent } });
      await call(c, 'create_task', { taskId, title: 'write the docs', files: ['docs/a.md'] });
    });
    after(async () => {
      await c?.close();
      dir.remove();
    });

    test('the templates are listed, before the downstreams', async () => {
      const { resourceTemplates } = await c.client.listResourceTemplates();
      const uris = resourceTemplates.map((t) => t.uriTemplate);
      assert.deepEqual(uris.slice(0, TEMPLATES.length), TEMPLATES);
      for (const t of resourceTemplates.slice(0, TEMPLATES.length)) {
        assert.equal(t.mimeType, 'application/json');
        assert.equal(t._meta?.['coordinator/server'], 'coordinator');
      }
    });

    test('each template reads as JSON; an unknown task is an error', async () => {
      const state = await readJson(c, `tasks://${taskId}/state`);
      assert.equal(state.status, 'open');
      assert.equal(state.title, 'write the docs');
      assert.deepEqual((await readJson(c, `tasks://${taskId}/logs`)).steps, []);
      const files = await readJson(c, `tasks://${taskId}/files`);
      assert.deepEqual(files.files, [{ file: 'docs/a.md', lock: null }]);
      const collab = await readJson(c, `collaboration://${taskId}`);
      assert.equal(collab.holder, null);
      assert.deepEqual(collab.agents, [{ agentId: agent, roles: ['creator'], steps: 0 }]);
      await waitFor(
        async () => {
          try {
            return (await readJson(c, `agents://${agent}/status`)).agentId === agent;
          } catch {
            return false;
          }
        },
        10_000,
        'the agent registered',
      );
      await assert.rejects(c.client.readResource({ uri: 'tasks://nope/state' }), /Unknown resource/);
    });

    test('a subscriber hears resources/updated on claim and log_step', async () => {
      const updates: string[] = [];
      c.client.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void updates.push(n.params.uri),
      );
      const watched = [`tasks://${taskId}/state`, `tasks://${taskId}/logs`, `agents://${agent}/status`];
      if (era === 'legacy') {
        for (const uri of watched) await c.client.subscribeResource({ uri });
      } else {
        const subscription = await c.client.listen({ resourceSubscriptions: watched });
        assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, watched);
        // The coordinator notes the listen just after the SDK acknowledged it.
        await new Promise((r) => setTimeout(r, 200));
      }

      await call(c, 'claim_task', { taskId });
      await waitFor(() => updates.includes(`tasks://${taskId}/state`), 5_000, 'state updated on claim');
      await waitFor(
        () => updates.includes(`agents://${agent}/status`),
        5_000,
        'agent status updated on claim',
      );
      assert.equal((await readJson(c, `tasks://${taskId}/state`)).status, 'claimed');
      assert.deepEqual((await readJson(c, `agents://${agent}/status`)).tasks, [taskId]);
      assert.ok(!updates.includes(`tasks://${taskId}/files`), 'an unwatched resource is not announced');

      updates.length = 0;
      await call(c, 'log_step', { taskId, message: 'outline written' });
      await waitFor(() => updates.includes(`tasks://${taskId}/logs`), 5_000, 'logs updated on log_step');
      const logs = await readJson(c, `tasks://${taskId}/logs`);
      assert.deepEqual(
        (logs.steps as Array<{ message: string }>).map((s) => s.message),
        ['outline written'],
      );
      const collab = await readJson(c, `collaboration://${taskId}`);
      assert.equal(collab.holder, agent);
      assert.deepEqual(collab.agents, [
        { agentId: agent, roles: ['holder', 'contributor', 'creator'], steps: 1 },
      ]);
      const files = await readJson(c, `tasks://${taskId}/files`);
      assert.equal((files.files as Array<{ lock: { holder: string } | null }>)[0]?.lock?.holder, agent);
    });
  });
}

describe('coordinator resources over serve --http', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('a modern listen stream and a legacy subscriber hear the task change', async () => {
    const file = writeConfig(dir.path, { servers: {}, coordination: { workspaceRoot: dir.path } });
    const c = await startHttp(file);
    const modern = await v2Client(c.url, { era: 'modern', name: 'm' });
    const legacy = await v2Client(c.url, { era: 'legacy', name: 'l' });
    try {
      await modern.callTool({
        name: 'coordinator__create_task',
        arguments: { taskId: 'h1', title: 'over http' },
      });
      const heard: Record<'modern' | 'legacy', string[]> = { modern: [], legacy: [] };
      modern.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void heard.modern.push(n.params.uri),
      );
      legacy.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void heard.legacy.push(n.params.uri),
      );
      const subscription = await modern.listen({ resourceSubscriptions: ['tasks://h1/state'] });
      await legacy.subscribeResource({ uri: 'tasks://h1/logs' });
      await new Promise((r) => setTimeout(r, 200));
      await legacy.callTool({ name: 'coordinator__claim_task', arguments: { taskId: 'h1' } });
      await legacy.callTool({ name: 'coordinator__log_step', arguments: { taskId: 'h1', message: 'step' } });
      await waitFor(
        () => heard.modern.includes('tasks://h1/state'),
        10_000,
        'the listen stream heard the claim',
      );
      await waitFor(
        () => heard.legacy.includes('tasks://h1/logs'),
        10_000,
        'the legacy subscriber heard the step',
      );
      assert.ok(
        heard.modern.every((u) => u === 'tasks://h1/state'),
        heard.modern.join(),
      );
      const read = await modern.readResource({ uri: 'tasks://h1/state' });
      assert.equal(JSON.parse((read.contents[0] as { text: string }).text).status, 'claimed');
      await subscription.close();
    } finally {
      await Promise.all([modern.close(), legacy.close()]);
      await c.stop();
    }
  });
});
