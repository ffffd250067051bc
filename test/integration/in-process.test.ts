/**
 * The core built in this process (no CLI), its sessions driven through the SDK's own in-process
 * paths: a legacy client over the in-memory linked pair, a modern client through the fetch-level
 * handler (`createMcpHandler`), both at once against one core and one real downstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { App } from '../../src/app.js';
import { parseConfigText } from '../../src/config/load.js';
import { silentLogger } from '../../src/shared/logger.js';
import { FIXTURE, MODERN_FIXTURE, tempDir, waitFor } from '../helpers/coordinator.js';

const ELICITS = { elicitation: { form: {} } };

describe('one core, a session per client, in process', () => {
  const dir = tempDir();
  const asked: string[] = [];
  let app: App;
  let legacy: Client;
  let modern: Client;
  let handler: ReturnType<typeof createMcpHandler>;

  before(async () => {
    const configFile = `${dir.path}/servers.yml`;
    const config = parseConfigText(
      JSON.stringify({
        servers: {
          neo: { command: process.execPath, args: [MODERN_FIXTURE, '--name', 'neo', '--legacy', 'serve'] },
          old: { command: process.execPath, args: [FIXTURE, '--name', 'old', '--introspect'] },
        },
        cacheDir: '',
      }),
      configFile,
      {},
    );
    app = await App.create({ config, configFile, logger: silentLogger });
    app.startDownstreams();

    const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
    await app.newSession('legacy').server.connect(serverEnd);
    legacy = new Client({ name: 'in-memory-legacy', version: '1.0.0' }, { capabilities: ELICITS });
    legacy.setRequestHandler('elicitation/create', async () => {
      asked.push('legacy');
      return { action: 'accept', content: { ok: true } };
    });
    await legacy.connect(clientEnd);

    // Stateless HTTP: a new instance (and session) per request; the caller is what binds them.
    handler = createMcpHandler(({ era }) => app.newSession(era, { caller: 'in-process-http' }).server);
    modern = new Client(
      { name: 'in-process-modern', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: ELICITS },
    );
    modern.setRequestHandler('elicitation/create', async () => {
      asked.push('modern');
      return { action: 'decline' };
    });
    await modern.connect(
      new StreamableHTTPClientTransport(new URL('http://coordinator.test/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      }),
    );
    await waitFor(
      async () => {
        const names = (await legacy.listTools()).tools.map((t) => t.name);
        return names.includes('neo__echo') && names.includes('old__ask');
      },
      20_000,
      'neo and old listed',
    );
  });
  after(async () => {
    await legacy.close();
    await modern.close();
    await handler.close();
    await app.close();
    dir.remove();
  });

  test('a session per client and era: the legacy connection stays, modern requests leave none behind', async () => {
    assert.equal(legacy.getProtocolEra(), 'legacy');
    assert.equal(modern.getProtocolEra(), 'modern');
    for (let i = 0; i < 5; i++) await modern.listTools();
    await waitFor(() => app.hub.sessions.size === 1, 5_000, 'modern sessions closed');
    assert.deepEqual(
      [...app.hub.sessions].map((s) => s.era),
      ['legacy'],
    );
  });

  test('both see the same catalog and reach the same downstream', async () => {
    const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(await names(modern), await names(legacy));
    for (const client of [legacy, modern]) {
      const result = await client.callTool({
        name: 'neo__echo',
        arguments: { text: client.getProtocolEra()! },
      });
      assert.deepEqual(result.content, [{ type: 'text', text: client.getProtocolEra() }]);
    }
  });

  test('the agent of each call comes from its own client', async () => {
    const holder = async (client: Client, file: string) => {
      const result = await client.callTool({ name: 'coordinator__lock_file', arguments: { file } });
      const listed = await client.callTool({ name: 'coordinator__list_locks', arguments: {} });
      assert.notEqual(result.isError, true);
      const locks = (listed.structuredContent as { locks: Array<{ file: string; holder: string }> }).locks;
      return locks.find((l) => l.file === file)?.holder;
    };
    assert.match((await holder(legacy, 'a.txt')) ?? '', /^in-memory-legacy-/);
    assert.match((await holder(modern, 'b.txt')) ?? '', /^in-process-modern-/);
  });

  test("a downstream's question goes to the client whose call caused it, of either era", async () => {
    const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;
    // A legacy downstream asks mid-call (server→client request), a modern one returns input_required.
    for (const tool of ['old__ask', 'neo__confirm']) {
      asked.length = 0;
      assert.equal(text(await legacy.callTool({ name: tool, arguments: { thing: 't' } })), 'confirmed t');
      assert.deepEqual(asked, ['legacy'], `${tool} from the legacy client`);
      asked.length = 0;
      assert.equal(text(await modern.callTool({ name: tool, arguments: { thing: 't' } })), 'declined t');
      assert.deepEqual(asked, ['modern'], `${tool} from the modern client`);
    }
  });
});
