import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isStdio, parseConfigText } from '../../../src/config/index.js';
import { assertRejects } from './config-error.js';

const FILE = '/projects/demo/claude_desktop_config.json';

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

describe('Claude Desktop style files', () => {
  test('mcpServers with command, args, env, cwd, url, type and headers', () => {
    const text = json({
      mcpServers: {
        memory: {
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-memory'],
          env: { MEMORY_FILE_PATH: '${HOME}/memory.json' },
        },
        tools: { command: 'node', args: ['dist/index.js'], cwd: 'tools', type: 'stdio' },
        docs: {
          url: 'https://docs.example/mcp',
          type: 'http',
          headers: { Authorization: 'Bearer ${TOKEN}' },
        },
        streamy: { url: 'https://s.example/mcp', type: 'streamableHttp' },
        legacy: { url: 'https://l.example/sse', type: 'sse' },
        explicit: { url: 'https://e.example/mcp', transport: 'streamable-http' },
      },
    });
    const config = parseConfigText(text, FILE, { HOME: '/home/ada', TOKEN: 't' });

    const memory = config.servers['memory'];
    assert.ok(memory && isStdio(memory));
    assert.deepEqual(memory.args, ['-y', '@modelcontextprotocol/server-memory']);
    assert.deepEqual(memory.env, { MEMORY_FILE_PATH: '/home/ada/memory.json' });
    assert.equal(memory.cwd, '/projects/demo');

    const tools = config.servers['tools'];
    assert.ok(tools && isStdio(tools));
    assert.equal(tools.cwd, '/projects/demo/tools');

    const docs = config.servers['docs'];
    assert.ok(docs && !isStdio(docs));
    assert.equal(docs.transport, 'streamable-http');
    assert.deepEqual(docs.headers, { Authorization: 'Bearer t' });

    const transports = Object.fromEntries(
      Object.entries(config.servers).map(([id, server]) => [
        id,
        isStdio(server) ? 'stdio' : server.transport,
      ]),
    );
    assert.deepEqual(transports, {
      memory: 'stdio',
      tools: 'stdio',
      docs: 'streamable-http',
      streamy: 'streamable-http',
      legacy: 'sse',
      explicit: 'streamable-http',
    });
    assert.equal(config.coordination.redis, '');
  });

  test('disabled: true becomes enabled: false; approval lists are dropped', () => {
    const config = parseConfigText(
      json({
        mcpServers: {
          off: { command: 'x', disabled: true, autoApprove: ['read'] },
          on: { command: 'y', disabled: false, alwaysAllow: [] },
        },
      }),
      FILE,
      {},
    );
    assert.equal(config.servers['off']?.enabled, false);
    assert.equal(config.servers['on']?.enabled, true);
    assert.equal('autoApprove' in (config.servers['off'] ?? {}), false);
  });

  test("the app's own top-level settings are ignored; coordinator sections are honoured", () => {
    const config = parseConfigText(
      json({
        globalShortcut: 'Ctrl+Space',
        mcpServers: { a: { command: 'x' }, b: { url: 'https://b/' } },
        routing: { default: 'b' },
      }),
      FILE,
      {},
    );
    assert.deepEqual(Object.keys(config.servers), ['a', 'b']);
    assert.equal(config.routing.default, 'b');
  });

  test('an empty mcpServers is valid', () => {
    assert.deepEqual(parseConfigText('{ "mcpServers": {} }', FILE, {}).servers, {});
  });

  test('the same shape is accepted in YAML', () => {
    const config = parseConfigText('mcpServers:\n  a:\n    command: x\n    disabled: true\n', FILE, {});
    assert.equal(config.servers['a']?.enabled, false);
  });

  test('a single-line JSON file still reports line 1 and the key', () => {
    assertRejects('{"mcpServers": {"a": {"command": "x", "colour": "red"}}}', {
      file: FILE,
      line: 1,
      key: 'mcpServers.a.colour',
      detail: /unknown key "colour"/,
    });
  });
});

describe('Claude Desktop errors use the file own names', () => {
  test('an unknown key inside a server', () => {
    const text = json({ mcpServers: { fs: { command: 'npx', args: [], colour: 'red' } } });
    assertRejects(text, {
      file: FILE,
      line: 6,
      key: 'mcpServers.fs.colour',
      detail: /unknown key "colour"/,
    });
  });

  test('an unknown type', () => {
    const text = json({ mcpServers: { ws: { url: 'https://w/', type: 'websocket' } } });
    assertRejects(text, {
      file: FILE,
      line: 5,
      key: 'mcpServers.ws.type',
      detail:
        /must be one of "stdio", "http", "streamable-http", "streamableHttp", "sse" \(got "websocket"\)/,
    });
  });

  test('a remote type without url', () => {
    const text = json({ mcpServers: { r: { command: 'x', type: 'sse' } } });
    assertRejects(text, { file: FILE, line: 5, key: 'mcpServers.r.type', detail: /type "sse" needs url/ });
  });

  test('type stdio without command', () => {
    const text = json({ mcpServers: { r: { url: 'https://r/', type: 'stdio' } } });
    assertRejects(text, {
      file: FILE,
      line: 5,
      key: 'mcpServers.r.type',
      detail: /type "stdio" needs command/,
    });
  });

  test('disabled that is not a boolean', () => {
    const text = json({ mcpServers: { a: { command: 'x', disabled: 'yes' } } });
    assertRejects(text, {
      file: FILE,
      line: 5,
      key: 'mcpServers.a.disabled',
      detail: /must be true or false/,
    });
  });

  test('neither command nor url', () => {
    const text = json({ mcpServers: { a: { args: ['x'] } } });
    assertRejects(text, {
      file: FILE,
      line: 3,
      key: 'mcpServers.a',
      detail: /needs either command \(stdio\) or url/,
    });
  });

  test('a schema error inside a mapped server keeps the file key names', () => {
    const text = json({ mcpServers: { a: { url: 'nope', type: 'http' } } });
    assertRejects(text, { file: FILE, line: 4, key: 'mcpServers.a.url', detail: /must be an http/ });
  });

  test('servers next to mcpServers', () => {
    const text = json({ mcpServers: {}, servers: {} });
    assertRejects(text, { file: FILE, line: 3, key: 'servers', detail: /either servers .* or mcpServers/ });
  });

  test('an unset variable names the mcpServers key path', () => {
    const text = json({ mcpServers: { a: { command: 'x', env: { TOKEN: '${GITHUB_TOKEN}' } } } });
    assertRejects(text, {
      file: FILE,
      line: 6,
      key: 'mcpServers.a.env.TOKEN',
      detail: /^\$\{GITHUB_TOKEN\} is not set/,
    });
  });

  test('an error in a server whose id was normalised names the id as written', () => {
    const text = json({ mcpServers: { 'my server': { command: 'x', colour: 'red' } } });
    assertRejects(text, { file: FILE, line: 5, key: 'mcpServers.my server.colour', detail: /unknown key/ });
  });

  test('routing targets are checked in Claude Desktop files too', () => {
    const text = json({ mcpServers: { a: { command: 'x' } }, routing: { default: 'b' } });
    assertRejects(text, { file: FILE, line: 8, key: 'routing.default', detail: /unknown target "b"/ });
  });
});
