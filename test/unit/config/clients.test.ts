/**
 * Issue 10, item 3: the config files people already have, as those clients write them, load as
 * they are (each one a real-looking file on disk, read through loadConfig like `--config` does).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isStdio, loadConfig, type Config, type ServerConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/coordinator.js';

const home = tempDir('mcp-clients-');
const ENV = { HOME: '/home/ada', PATH: '/usr/bin' };

function write(relative: string, text: string): string {
  const file = join(home.path, relative);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function server(config: Config, id: string): ServerConfig {
  const found = config.servers[id];
  assert.ok(found, `server ${id} in ${Object.keys(config.servers).join(', ')}`);
  return found;
}

function stdio(config: Config, id: string) {
  const s = server(config, id);
  assert.ok(isStdio(s), `${id} is stdio`);
  return s;
}

function remote(config: Config, id: string) {
  const s = server(config, id);
  assert.ok(!isStdio(s), `${id} is remote`);
  return s;
}

describe("other clients' config files", () => {
  after(() => home.remove());

  test("Claude Desktop: ids with _ and . kept, a space normalised with a warning; the app's own keys ignored", async () => {
    const file = write(
      'Claude/claude_desktop_config.json',
      `{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/ada/Desktop", "/Users/ada/Downloads"]
    },
    "brave_search": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-brave-search"],
      "env": { "BRAVE_API_KEY": "BSA-not-a-real-key" }
    },
    "acme.docs": { "command": "/opt/acme/bin/docs-mcp", "args": [] },
    "Google Drive": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-gdrive"] }
  },
  "globalShortcut": "Alt+Space"
}
`,
    );
    const loaded = await loadConfig(file, ENV);
    assert.deepEqual(Object.keys(loaded.config.servers), [
      'filesystem',
      'brave_search',
      'acme.docs',
      'Google-Drive',
    ]);
    assert.deepEqual(stdio(loaded.config, 'brave_search').env, { BRAVE_API_KEY: 'BSA-not-a-real-key' });
    // A `.` cannot be in a tool name: the namespace is acme-docs (contract: "`.` becomes `-`").
    assert.equal(server(loaded.config, 'acme.docs').prefix, 'acme-docs');
    assert.equal(server(loaded.config, 'brave_search').prefix, undefined);
    assert.deepEqual(loaded.warnings, [
      'mcpServers."Google Drive": server id "Google Drive" is used as "Google-Drive"',
    ]);
  });

  test('Cursor: ${env:VAR}, ${workspaceFolder} and envFile (under the own env), remote url with headers', async () => {
    write('project/.env', '# secrets\nexport GITHUB_TOKEN=from-env-file\nLOG_LEVEL="debug"\nSHARED=file\n');
    const file = write(
      'project/.cursor/mcp.json',
      `{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "SHARED": "own", "HOME_DIR": "\${userHome}" },
      "envFile": "\${workspaceFolder}/.env"
    },
    "linear": {
      "url": "https://mcp.linear.app/mcp",
      "headers": { "Authorization": "Bearer \${env:LINEAR_KEY}" }
    },
    "legacy-sse": { "url": "http://localhost:8931/sse" }
  }
}
`,
    );
    const loaded = await loadConfig(file, { ...ENV, LINEAR_KEY: 'lin_123' });
    assert.deepEqual(stdio(loaded.config, 'github').env, {
      GITHUB_TOKEN: 'from-env-file',
      LOG_LEVEL: 'debug',
      SHARED: 'own',
      HOME_DIR: '/home/ada',
    });
    const linear = remote(loaded.config, 'linear');
    assert.equal(linear.transport, 'streamable-http');
    assert.deepEqual(linear.headers, { Authorization: 'Bearer lin_123' });
    assert.equal(remote(loaded.config, 'legacy-sse').transport, 'sse');
    assert.deepEqual(loaded.warnings, []);
  });

  test('Cursor: a missing envFile is a warning, not a rejection', async () => {
    const file = write(
      'other/.cursor/mcp.json',
      '{ "mcpServers": { "a": { "command": "npx", "args": ["x"], "envFile": ".env.local" } } }',
    );
    const loaded = await loadConfig(file, ENV);
    assert.deepEqual(stdio(loaded.config, 'a').env, {});
    assert.match(loaded.warnings?.[0] ?? '', /mcpServers\.a\.envFile: cannot read .*\.env\.local \(ENOENT\)/);
  });

  test('Cline: timeout in seconds, disabled, alwaysAllow/autoApprove, type and transportType', async () => {
    const file = write(
      'Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json',
      `{
  "mcpServers": {
    "weather": {
      "command": "node",
      "args": ["/Users/ada/Documents/Cline/MCP/weather-server/build/index.js"],
      "env": { "OPENWEATHER_API_KEY": "owm-key" },
      "disabled": false,
      "autoApprove": [],
      "alwaysAllow": ["get_forecast"],
      "timeout": 120,
      "type": "stdio"
    },
    "notes": {
      "url": "http://localhost:3001/mcp",
      "type": "streamableHttp",
      "disabled": true,
      "timeout": 30
    },
    "old-sse": { "url": "http://localhost:3002/events", "transportType": "sse", "timeout": 60 }
  }
}
`,
    );
    const loaded = await loadConfig(file, ENV);
    const weather = stdio(loaded.config, 'weather');
    assert.equal(weather.timeoutMs, 120_000);
    assert.equal(weather.enabled, true);
    assert.equal('alwaysAllow' in weather, false);
    const notes = remote(loaded.config, 'notes');
    assert.equal(notes.enabled, false);
    assert.equal(notes.timeoutMs, 30_000);
    assert.equal(notes.transport, 'streamable-http');
    assert.equal(remote(loaded.config, 'old-sse').transport, 'sse');
    assert.equal(loaded.warnings?.length, 1);
    assert.match(loaded.warnings?.[0] ?? '', /autoApprove, alwaysAllow ignored/);
  });

  test('VS Code: servers with type, inputs next to them, ${workspaceFolder}', async () => {
    const file = write(
      'repo/.vscode/mcp.json',
      `{
  "inputs": [
    { "type": "promptString", "id": "perplexity-key", "description": "Perplexity API Key", "password": true }
  ],
  "servers": {
    "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"] },
    "memory": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"],
      "env": { "MEMORY_FILE_PATH": "\${workspaceFolder}/.vscode/memory.json" }
    },
    "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" },
    "legacy": { "type": "sse", "url": "http://localhost:9000/sse" }
  }
}
`,
    );
    const loaded = await loadConfig(file, ENV);
    assert.deepEqual(Object.keys(loaded.config.servers), ['fetch', 'memory', 'github', 'legacy']);
    assert.deepEqual(stdio(loaded.config, 'memory').env, {
      MEMORY_FILE_PATH: join(home.path, 'repo/.vscode/memory.json'),
    });
    assert.equal(remote(loaded.config, 'github').transport, 'streamable-http');
    assert.equal(remote(loaded.config, 'legacy').transport, 'sse');
  });

  test('VS Code: a value that needs a prompt (${input:…}) is refused with what to write instead', async () => {
    const file = write(
      'repo2/.vscode/mcp.json',
      `{
  "inputs": [{ "type": "promptString", "id": "perplexity-key", "password": true }],
  "servers": {
    "perplexity": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "server-perplexity-ask"],
      "env": { "PERPLEXITY_API_KEY": "\${input:perplexity-key}" }
    }
  }
}
`,
    );
    await assert.rejects(loadConfig(file, ENV), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.line, 8);
      assert.equal(error.key, 'servers.perplexity.env.PERPLEXITY_API_KEY');
      assert.match(error.detail, /asks VS Code to prompt for a value, which the coordinator cannot do/);
      assert.match(error.detail, /export PERPLEXITY_KEY and write \$\{PERPLEXITY_KEY\} instead/);
      return true;
    });
  });

  test('Windsurf: serverUrl (Streamable HTTP, or SSE for a /sse path) and stdio servers', async () => {
    const file = write(
      '.codeium/windsurf/mcp_config.json',
      `{
  "mcpServers": {
    "google-maps": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-google-maps"],
      "env": { "GOOGLE_MAPS_API_KEY": "<YOUR_API_KEY>" }
    },
    "figma": { "serverUrl": "https://mcp.figma.com/mcp" },
    "local-sse": { "serverUrl": "http://127.0.0.1:8080/sse", "headers": { "X-Team": "core" } }
  }
}
`,
    );
    const loaded = await loadConfig(file, ENV);
    const figma = remote(loaded.config, 'figma');
    assert.equal(figma.url, 'https://mcp.figma.com/mcp');
    assert.equal(figma.transport, 'streamable-http');
    const local = remote(loaded.config, 'local-sse');
    assert.equal(local.transport, 'sse');
    assert.deepEqual(local.headers, { 'X-Team': 'core' });
    assert.equal(stdio(loaded.config, 'google-maps').command, 'npx');
  });

  test('servers.yml accepts ids with _ and . too', async () => {
    const file = write(
      'plain/servers.yml',
      'servers:\n  brave_search: { command: x }\n  acme.docs: { url: "https://d/mcp" }\n',
    );
    const loaded = await loadConfig(file, ENV);
    assert.deepEqual(Object.keys(loaded.config.servers), ['brave_search', 'acme.docs']);
    assert.equal(server(loaded.config, 'acme.docs').prefix, 'acme-docs');
  });
});
