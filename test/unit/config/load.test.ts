import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStdio, loadConfig, parseConfigText, resolveConfigPath } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/shared/errors.js';
import { assertConfigError } from './config-error.js';

/** The servers.yml example of the product contract, with real URLs in place of "...". */
const CONTRACT_EXAMPLE = `servers:
  memory:                          # id: [A-Za-z0-9-]+ ; becomes the namespace
    command: node                  # stdio: spawn
    args: [path/to/server.js]
    env: { MEMORY_FILE_PATH: "\${HOME}/memory.json" }   # \${VAR} and \${VAR:-default} expanded
    cwd: .
  docs:
    url: http://127.0.0.1:4100/mcp # remote
    transport: streamable-http     # or sse; default streamable-http
    headers: { Authorization: "Bearer \${DOCS_TOKEN}" }
  odoo-prod: { url: "https://odoo.example.com/mcp", group: odoo }   # same group = replicas
  odoo-lab:  { url: "https://odoo-lab.example.com/mcp", group: odoo }
namespace:
  separator: "__"
  maxNameLength: 64
routing:
  default: odoo-prod
  rules:
    - when: { context: { finance-ssc: true } }
      target: odoo-prod
      reason: Finance SSC context requires production data
    - when: { context: { migration: true } }
      target: odoo-lab
coordination:
  redis: \${REDIS_URL:-}            # empty → embedded in-process bus
  prefix: "mcp:"
  lockTtlMs: 60000
`;

const ENV = { HOME: '/home/ada', DOCS_TOKEN: 's3cret' };

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-coordinator-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  test('loads the contract example with every key', async () => {
    const file = path.join(dir, 'servers.yml');
    await writeFile(file, CONTRACT_EXAMPLE);
    const { config, file: loadedFrom, baseDir } = await loadConfig(file, ENV);

    assert.equal(loadedFrom, file);
    assert.equal(baseDir, dir);
    assert.deepEqual(Object.keys(config.servers), ['memory', 'docs', 'odoo-prod', 'odoo-lab']);

    const memory = config.servers['memory'];
    assert.ok(memory && isStdio(memory));
    assert.equal(memory.command, 'node');
    assert.deepEqual(memory.args, ['path/to/server.js']);
    assert.deepEqual(memory.env, { MEMORY_FILE_PATH: '/home/ada/memory.json' });
    assert.equal(memory.cwd, dir);
    assert.equal(memory.enabled, true);
    assert.equal(memory.startup, 'eager');
    assert.equal(memory.timeoutMs, 60_000);

    const docs = config.servers['docs'];
    assert.ok(docs && !isStdio(docs));
    assert.equal(docs.url, 'http://127.0.0.1:4100/mcp');
    assert.equal(docs.transport, 'streamable-http');
    assert.deepEqual(docs.headers, { Authorization: 'Bearer s3cret' });

    const prod = config.servers['odoo-prod'];
    assert.ok(prod && !isStdio(prod));
    assert.equal(prod.group, 'odoo');
    assert.equal(prod.transport, 'streamable-http');
    assert.equal(config.servers['odoo-lab']?.group, 'odoo');

    assert.deepEqual(config.namespace, { separator: '__', maxNameLength: 64 });
    assert.equal(config.routing.default, 'odoo-prod');
    assert.equal(config.routing.failover, 'never');
    assert.deepEqual(config.routing.rules, [
      {
        when: { context: { 'finance-ssc': true } },
        target: 'odoo-prod',
        reason: 'Finance SSC context requires production data',
      },
      { when: { context: { migration: true } }, target: 'odoo-lab' },
    ]);
    assert.equal(config.coordination.redis, '');
    assert.equal(config.coordination.prefix, 'mcp:');
    assert.equal(config.coordination.lockTtlMs, 60_000);
    assert.equal(config.coordination.workspaceRoot, dir);
    assert.deepEqual(config.health, {
      intervalMs: 5_000,
      timeoutMs: 2_000,
      failureThreshold: 3,
      cooldownMs: 10_000,
    });
  });

  test('REDIS_URL, when set, reaches coordination.redis', async () => {
    const file = path.join(dir, 'redis.yml');
    await writeFile(file, CONTRACT_EXAMPLE);
    const { config } = await loadConfig(file, { ...ENV, REDIS_URL: 'redis://cache:6379/0' });
    assert.equal(config.coordination.redis, 'redis://cache:6379/0');
  });

  test('a missing file is a ConfigError naming the file', async () => {
    const file = path.join(dir, 'nope.yml');
    await assert.rejects(loadConfig(file, {}), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.file, file);
      assert.equal(error.line, undefined);
      assert.equal(
        error.message,
        `${file}: config file not found (pass --config FILE or set MCP_COORDINATOR_CONFIG)`,
      );
      return true;
    });
  });

  test('a directory is a ConfigError naming it', async () => {
    await assert.rejects(loadConfig(dir, {}), /is a directory, not a config file/);
  });

  test('a relative file is made absolute, and errors name the absolute file', async () => {
    const file = path.join(dir, 'bad.yml');
    await writeFile(file, 'servers:\n  a:\n    command: x\n    colour: blue\n');
    const relative = path.relative(process.cwd(), file);
    await assert.rejects(loadConfig(relative, {}), (error) =>
      assertConfigError(error, { file, line: 4, key: 'servers.a.colour', detail: /unknown key "colour"/ }),
    );
  });

  test('a .json file is parsed with line numbers kept', async () => {
    const file = path.join(dir, 'mcp.json');
    await writeFile(
      file,
      JSON.stringify({ mcpServers: { fs: { command: 'npx', args: ['-y', 'fs'], colour: 'blue' } } }, null, 2),
    );
    await assert.rejects(loadConfig(file, {}), (error) =>
      assertConfigError(error, {
        file,
        line: 9,
        key: 'mcpServers.fs.colour',
        detail: /unknown key "colour"/,
      }),
    );
  });
});

describe('path resolution against the config folder', () => {
  const yaml = `servers:
  here: { command: node }
  sub: { command: node, cwd: tools/srv }
  up: { command: node, cwd: ../shared }
  abs: { command: node, cwd: /opt/srv }
  remote: { url: "https://r.example/mcp" }
coordination:
  workspaceRoot: ..
cacheDir: .cache
`;

  test('relative cwd resolves against the file folder; no cwd means the file folder', () => {
    const config = parseConfigText(yaml, '/projects/demo/servers.yml', {});
    const cwd = (id: string): string | undefined => {
      const server = config.servers[id];
      return server && isStdio(server) ? server.cwd : undefined;
    };
    assert.equal(cwd('here'), '/projects/demo');
    assert.equal(cwd('sub'), '/projects/demo/tools/srv');
    assert.equal(cwd('up'), '/projects/shared');
    assert.equal(cwd('abs'), '/opt/srv');
    assert.equal('cwd' in (config.servers['remote'] ?? {}), false);
  });

  test('workspaceRoot and cacheDir resolve against the file folder', () => {
    const config = parseConfigText(yaml, '/projects/demo/servers.yml', {});
    assert.equal(config.coordination.workspaceRoot, '/projects');
    assert.equal(config.cacheDir, '/projects/demo/.cache');
  });

  test('cacheDir "" (disabled) and an absent cacheDir stay as written', () => {
    const off = parseConfigText('servers: {}\ncacheDir: ""\n', '/p/servers.yml', {});
    assert.equal(off.cacheDir, '');
    const absent = parseConfigText('servers: {}\n', '/p/servers.yml', {});
    assert.equal(absent.cacheDir, undefined);
  });

  test('the file folder is used even when the coordinator starts elsewhere', async () => {
    const nested = await mkdtemp(path.join(os.tmpdir(), 'mcp-coordinator-cwd-'));
    try {
      await mkdir(path.join(nested, 'conf'));
      const file = path.join(nested, 'conf', 'servers.yml');
      await writeFile(file, 'servers:\n  a: { command: node, args: [node_modules/x/index.js] }\n');
      const { config } = await loadConfig(file, {});
      const server = config.servers['a'];
      assert.ok(server && isStdio(server));
      assert.equal(server.cwd, path.join(nested, 'conf'));
      assert.deepEqual(server.args, ['node_modules/x/index.js']);
    } finally {
      await rm(nested, { recursive: true, force: true });
    }
  });
});

describe('valid edge cases', () => {
  test('an empty servers map is valid (built-in tools only)', () => {
    const config = parseConfigText('servers: {}\n', '/p/servers.yml', {});
    assert.deepEqual(config.servers, {});
    assert.deepEqual(config.routing.rules, []);
    assert.equal(config.coordination.redis, '');
  });

  test('a routing target may name a group', () => {
    const config = parseConfigText(
      'servers:\n  a: { url: "https://a/", group: pool }\nrouting:\n  default: pool\n',
      '/p/servers.yml',
      {},
    );
    assert.equal(config.routing.default, 'pool');
  });

  test('routing.default "" (e.g. from ${VAR:-}) means no default', () => {
    const config = parseConfigText(
      'servers: {}\nrouting:\n  default: ${DEFAULT_TARGET:-}\n',
      '/p/servers.yml',
      {},
    );
    assert.equal(config.routing.default, undefined);
  });

  test('a group may be named after a server that is itself in the group', () => {
    const config = parseConfigText(
      'servers:\n  odoo: { url: "https://a/", group: odoo }\n  odoo-lab: { url: "https://b/", group: odoo }\n',
      '/p/servers.yml',
      {},
    );
    assert.equal(config.servers['odoo-lab']?.group, 'odoo');
  });

  test('the reserved prefix can be avoided by setting another prefix', () => {
    const config = parseConfigText(
      'servers:\n  coordinator: { command: x, prefix: co }\n',
      '/p/servers.yml',
      {},
    );
    assert.equal(config.servers['coordinator']?.prefix, 'co');
  });

  test('YAML anchors and aliases work, and expansion reaches aliased values', () => {
    const config = parseConfigText(
      'servers:\n  a: { command: x, env: &shared { TOKEN: "${T}" } }\n  b: { command: y, env: *shared }\n',
      '/p/servers.yml',
      { T: 'tok' },
    );
    const b = config.servers['b'];
    assert.ok(b && isStdio(b));
    assert.deepEqual(b.env, { TOKEN: 'tok' });
  });
});

describe('resolveConfigPath', () => {
  const cwd = '/work/here';

  test('--config wins over the environment', () => {
    assert.equal(
      resolveConfigPath('a.yml', { MCP_COORDINATOR_CONFIG: '/etc/b.yml' }, cwd),
      '/work/here/a.yml',
    );
  });

  test('then $MCP_COORDINATOR_CONFIG', () => {
    assert.equal(resolveConfigPath(undefined, { MCP_COORDINATOR_CONFIG: '/etc/b.yml' }, cwd), '/etc/b.yml');
    assert.equal(
      resolveConfigPath(undefined, { MCP_COORDINATOR_CONFIG: 'conf/b.yml' }, cwd),
      '/work/here/conf/b.yml',
    );
  });

  test('then servers.yml in cwd', () => {
    assert.equal(resolveConfigPath(undefined, {}, cwd), '/work/here/servers.yml');
  });

  test('an absolute flag is kept; empty values count as not given', () => {
    assert.equal(resolveConfigPath('/abs/c.json', {}, cwd), '/abs/c.json');
    assert.equal(resolveConfigPath('', { MCP_COORDINATOR_CONFIG: '' }, cwd), '/work/here/servers.yml');
  });

  test('the result is always absolute', () => {
    assert.ok(path.isAbsolute(resolveConfigPath(undefined, {}, 'relative/dir')));
  });
});
