import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { parseConfigText } from '../../../src/config/index.js';
import { ChildGroups } from '../../../src/downstream/child-groups.js';
import { childEnvironment } from '../../../src/downstream/child-env.js';
import { ChildProcessTransport } from '../../../src/downstream/stdio-transport.js';
import { assertRejects } from '../config/config-error.js';
import { TOOL_SERVER } from './helpers.js';

const PARENT = {
  PATH: '/usr/bin',
  HOME: '/home/ada',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'C',
  TMPDIR: '/tmp',
  REDIS_URL: 'redis://:pw@redis:6379',
  MCP_EVENTS_SECRET: 'sign-anything',
  AWS_SECRET_ACCESS_KEY: 'aws',
  AWS_REGION: 'eu-west-1',
  BASH_FUNC_x: '() { evil; }',
};

describe('childEnvironment', () => {
  it('passes the minimal set and the configured env, never the coordinator’s secrets', () => {
    assert.deepEqual(childEnvironment(PARENT, { TOKEN: 'for-the-child', LANG: 'de_DE.UTF-8' }), {
      PATH: '/usr/bin',
      HOME: '/home/ada',
      LANG: 'de_DE.UTF-8',
      LC_ALL: 'C',
      TMPDIR: '/tmp',
      TOKEN: 'for-the-child',
    });
  });

  it('passes where to find the certificate authorities to trust (paths, needed for TLS behind a proxy)', () => {
    const env = childEnvironment(
      {
        ...PARENT,
        NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
        SSL_CERT_FILE: '/etc/ssl/certs/ca.pem',
        SSL_CERT_DIR: '/etc/ssl/certs',
        HTTPS_PROXY: 'http://user:pw@proxy:3128',
      },
      {},
    );
    assert.equal(env.NODE_EXTRA_CA_CERTS, '/etc/ssl/corp.pem');
    assert.equal(env.SSL_CERT_FILE, '/etc/ssl/certs/ca.pem');
    assert.equal(env.SSL_CERT_DIR, '/etc/ssl/certs');
    assert.equal(env.HTTPS_PROXY, undefined, 'a proxy URL may carry credentials: only when named');
  });

  it('adds the names inheritEnv lists (NAME* for a family), or everything with all', () => {
    const env = childEnvironment(PARENT, {}, ['AWS_*', 'MCP_EVENTS_SECRET']);
    assert.equal(env.MCP_EVENTS_SECRET, 'sign-anything');
    assert.equal(env.AWS_REGION, 'eu-west-1');
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'aws');
    assert.equal(env.REDIS_URL, undefined);
    const all = childEnvironment(PARENT, {}, 'all');
    assert.equal(all.REDIS_URL, PARENT.REDIS_URL);
    assert.equal(all.BASH_FUNC_x, undefined, 'exported shell functions are never passed');
  });

  it('matches names case-insensitively on Windows', () => {
    const env = childEnvironment(
      { Path: 'C:\\bin', SystemRoot: 'C:\\Windows', Secret: 'x' },
      {},
      [],
      'win32',
    );
    assert.deepEqual(env, { Path: 'C:\\bin', SystemRoot: 'C:\\Windows' });
  });
});

describe('inheritEnv in servers.yml', () => {
  it('takes a list or all, and names the key when it is neither', () => {
    const config = parseConfigText(
      'servers:\n  a: { command: x, inheritEnv: [AWS_*, NODE_OPTIONS] }\n  b: { command: y, inheritEnv: all }\n',
      '/p/servers.yml',
      {},
    );
    assert.deepEqual((config.servers.a as { inheritEnv?: unknown }).inheritEnv, ['AWS_*', 'NODE_OPTIONS']);
    assert.equal((config.servers.b as { inheritEnv?: unknown }).inheritEnv, 'all');
    assertRejects('servers:\n  a:\n    command: x\n    inheritEnv: yes-please\n', {
      line: 4,
      key: 'servers.a.inheritEnv',
      detail: /must be "all" or a list of variable names/,
    });
  });
});

describe('a spawned child', () => {
  it('does not see the coordinator’s secrets unless inheritEnv names them', async () => {
    const saved = { ...process.env };
    process.env.MCP_EVENTS_SECRET = 'sign-anything';
    process.env.REDIS_URL = 'redis://:pw@redis:6379';
    const read = async (inheritEnv?: string[]) => {
      const t = new ChildProcessTransport({
        serverId: 'env',
        command: process.execPath,
        args: [TOOL_SERVER, '--introspect'],
        env: { GIVEN: 'configured' },
        inheritEnv,
        onStderrLine: () => {},
        groups: new ChildGroups(),
      });
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(t);
      try {
        const out: Record<string, unknown> = {};
        for (const name of ['MCP_EVENTS_SECRET', 'REDIS_URL', 'GIVEN', 'PATH']) {
          const r = await client.callTool({ name: 'introspect', arguments: { env: name } });
          out[name] = (r.structuredContent as { env: unknown }).env;
        }
        return out;
      } finally {
        await client.close();
      }
    };
    try {
      assert.deepEqual(await read(), {
        MCP_EVENTS_SECRET: null,
        REDIS_URL: null,
        GIVEN: 'configured',
        PATH: process.env.PATH,
      });
      assert.equal((await read(['MCP_EVENTS_SECRET'])).MCP_EVENTS_SECRET, 'sign-anything');
    } finally {
      process.env = saved;
    }
  });
});
