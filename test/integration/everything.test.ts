/**
 * Nothing lost in transit: the built coordinator, driven over stdio by the SDK Client, in front
 * of the real @modelcontextprotocol/server-everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import {
  everythingServer,
  startCoordinator,
  tempDir,
  waitFor,
  writeConfig,
  type StartedCoordinator,
} from '../helpers/coordinator.js';

describe('forwarding to server-everything', () => {
  const dir = tempDir();
  let c: StartedCoordinator;
  const logs: LoggingMessageNotification['params'][] = [];
  const updated: string[] = [];
  let toolListChanged = 0;
  /** Whether a tools/list of this client came before the capability-dependent tools. */
  let lateTools = false;
  let samplingRequests = 0;
  let elicitations = 0;
  let rootsRequests = 0;

  before(async () => {
    const file = writeConfig(dir.path, { servers: { everything: everythingServer() } });
    c = await startCoordinator(file, {
      capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
      setup: (client) => {
        client.setRequestHandler(CreateMessageRequestSchema, async () => {
          samplingRequests++;
          return {
            model: 'test-model',
            role: 'assistant',
            content: { type: 'text', text: 'sampled by the test client' },
          };
        });
        client.setRequestHandler(ElicitRequestSchema, async () => {
          elicitations++;
          return { action: 'decline' };
        });
        client.setRequestHandler(ListRootsRequestSchema, async () => {
          rootsRequests++;
          return { roots: [{ uri: 'file:///tmp/test-root', name: 'test-root' }] };
        });
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
        client.setNotificationHandler(
          ResourceUpdatedNotificationSchema,
          (n) => void updated.push(n.params.uri),
        );
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void toolListChanged++);
      },
    });
    // The conditional tools (sampling, elicitation, roots) appear once the downstream saw our capabilities.
    await waitFor(
      async () => {
        const { tools } = await c.client.listTools();
        const there = tools.some((t) => t.name === 'everything__trigger-sampling-request');
        if (!there) lateTools = true;
        return there;
      },
      20_000,
      'the capability-dependent tools of server-everything',
    );
  });

  after(async () => {
    await c.close();
    dir.remove();
  });

  const call = (name: string, args: Record<string, unknown> = {}) =>
    c.client.callTool({ name: `everything__${name}`, arguments: args }) as Promise<CallToolResult>;

  test('advertises what it serves and announces late tools with list_changed', async () => {
    const caps = c.client.getServerCapabilities();
    assert.ok(caps?.tools && caps.prompts && caps.resources?.subscribe && caps.logging && caps.completions);
    // When this client listed the tools before the capability-dependent ones arrived, their
    // arrival is announced; when the first list already had them (a slow start), there was
    // nothing late to announce.
    if (lateTools) await waitFor(() => toolListChanged >= 1, 10_000, 'a tools/list_changed on the client');
  });

  test('every exposed tool is namespaced, within budget, described and tagged', async () => {
    const { tools } = await c.client.listTools();
    assert.ok(tools.length > 15);
    for (const tool of tools) {
      assert.match(tool.name, /^[A-Za-z0-9_-]{1,64}$/);
      assert.ok(tool.description && tool.description.length > 0, `${tool.name} has a description`);
      assert.ok(typeof tool._meta?.['coordinator/server'] === 'string');
      assert.ok(typeof tool._meta?.['coordinator/originalName'] === 'string');
    }
    const echo = tools.find((t) => t.name === 'everything__echo');
    assert.equal(echo?._meta?.['coordinator/server'], 'everything');
    assert.equal(echo?._meta?.['coordinator/originalName'], 'echo');
    assert.ok(tools.some((t) => t.name === 'coordinator__route'));
  });

  test('text, image, resource link, embedded resource and structured content pass through', async () => {
    const echo = await call('echo', { message: 'hello' });
    assert.deepEqual(echo.content[0], { type: 'text', text: 'Echo: hello' });

    const image = await call('get-tiny-image');
    const img = image.content.find((p) => p.type === 'image');
    assert.ok(img && img.type === 'image' && img.data.length > 100 && img.mimeType === 'image/png');

    const links = await call('get-resource-links', { count: 2 });
    assert.ok(links.content.some((p) => p.type === 'resource_link'));

    const ref = await call('get-resource-reference', { resourceType: 'Text', resourceId: 1 });
    assert.ok(ref.content.some((p) => p.type === 'resource'));

    const structured = await call('get-structured-content', { location: 'New York' });
    assert.equal(typeof (structured.structuredContent as { temperature: number }).temperature, 'number');

    const annotated = await call('get-annotated-message', { messageType: 'error', includeImage: true });
    assert.ok(annotated.content.some((p) => p.annotations !== undefined));
  });

  test('routing metadata rides on every routed result', async () => {
    const result = await call('get-sum', { a: 2, b: 3 });
    assert.match(JSON.stringify(result.content), /5/);
    assert.deepEqual(result._meta?.['coordinator/routing'], {
      target: 'everything',
      reason: 'only server',
      attempts: [],
    });
  });

  test('bad arguments reach the client as a clear error, an unknown tool is InvalidParams naming it', async () => {
    const bad = await c.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two' } }).then(
      (r) => JSON.stringify(r),
      (e: Error) => e.message,
    );
    assert.match(bad, /a|number|invalid/i);
    await assert.rejects(c.client.callTool({ name: 'nope__missing', arguments: {} }), (e: unknown) => {
      assert.ok(e instanceof McpError);
      assert.equal(e.code, ErrorCode.InvalidParams);
      assert.match(e.message, /nope__missing/);
      assert.doesNotMatch(e.message, /MCP error -?\d+: MCP error/);
      return true;
    });
  });

  test('resources, templates and reads', async () => {
    const { resources } = await c.client.listResources();
    assert.ok(resources.length > 0);
    const first = resources[0]!;
    assert.equal(first._meta?.['coordinator/server'], 'everything');
    const read = await c.client.readResource({ uri: first.uri });
    assert.equal(read.contents[0]?.uri, first.uri);

    const { resourceTemplates } = await c.client.listResourceTemplates();
    assert.ok(resourceTemplates.some((t) => t.uriTemplate.includes('demo://resource/dynamic')));
    const dynamic = await c.client.readResource({ uri: 'demo://resource/dynamic/text/1' });
    assert.ok(dynamic.contents.length > 0);
  });

  test('prompts and completions', async () => {
    const { prompts } = await c.client.listPrompts();
    const names = prompts.map((p) => p.name);
    assert.ok(names.includes('everything__simple-prompt'));
    const simple = await c.client.getPrompt({ name: 'everything__simple-prompt' });
    assert.ok(simple.messages.length > 0);
    const args = await c.client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Paris' } });
    assert.match(JSON.stringify(args.messages), /Paris/);

    const completion = await c.client.complete({
      ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
      argument: { name: 'department', value: 'Eng' },
    });
    assert.deepEqual(completion.completion.values, ['Engineering']);
  });

  test('logging/setLevel goes down and notifications/message comes up tagged with the server id', async () => {
    await c.client.setLoggingLevel('debug');
    await call('toggle-simulated-logging');
    try {
      const tagged = await waitFor(
        () => logs.find((l) => String(l.logger).startsWith('everything')),
        15_000,
        'a log message',
      );
      assert.equal(tagged._meta?.['coordinator/server'], 'everything');
    } finally {
      await call('toggle-simulated-logging');
    }
  });

  test('subscribe, notifications/resources/updated, unsubscribe', async () => {
    const uri = 'demo://resource/static/document/architecture.md';
    const { resources } = await c.client.listResources();
    const target = resources.find((r) => r.uri === uri) ?? resources[0]!;
    await c.client.subscribeResource({ uri: target.uri });
    await call('toggle-subscriber-updates');
    try {
      await waitFor(() => updated.includes(target.uri), 20_000, 'a resource update');
    } finally {
      await call('toggle-subscriber-updates');
      await c.client.unsubscribeResource({ uri: target.uri });
    }
  });

  test('progress reaches the client before the response', async () => {
    const order: string[] = [];
    const result = await c.client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      { onprogress: () => void order.push('progress') },
    );
    order.push('result');
    assert.ok((result as CallToolResult).content.length > 0);
    assert.ok(order.filter((o) => o === 'progress').length >= 2, `progress seen: ${order.join(',')}`);
    assert.equal(order.at(-1), 'result');
  });

  test('ping', async () => {
    assert.deepEqual(await c.client.ping(), {});
  });

  test('sampling/createMessage and elicitation/create are answered by our client', async () => {
    const sampled = await call('trigger-sampling-request', { prompt: 'hi', maxTokens: 5 });
    assert.match(JSON.stringify(sampled.content), /sampled by the test client/);
    assert.equal(samplingRequests, 1);

    const elicited = await call('trigger-elicitation-request');
    assert.equal(elicitations, 1);
    assert.match(JSON.stringify(elicited.content), /decline/i);
  });

  test('roots/list comes up to our client, roots list_changed goes down', async () => {
    const roots = await call('get-roots-list');
    assert.match(JSON.stringify(roots.content), /test-root/);
    const before = rootsRequests;
    assert.ok(before >= 1);
    await c.client.sendRootsListChanged();
    await waitFor(() => rootsRequests > before, 10_000, 'a second roots/list after list_changed');
  });
});
