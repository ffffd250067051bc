import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, parseConfigText } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/shared/errors.js';
import { assertRejects, FILE } from './config-error.js';

const TOO_LONG = 2 ** 31;

describe('config bounds', () => {
  it('refuses every duration a Node timer cannot hold, with a clear message', () => {
    const cases: Array<[string, number, string]> = [
      [`servers:\n  a:\n    command: x\n    timeoutMs: ${TOO_LONG}\n`, 4, 'servers.a.timeoutMs'],
      [
        `servers:\n  a:\n    command: x\n    connectTimeoutMs: ${TOO_LONG}\n`,
        4,
        'servers.a.connectTimeoutMs',
      ],
      [`servers: {}\ncoordination:\n  lockTtlMs: ${TOO_LONG}\n`, 3, 'coordination.lockTtlMs'],
      [`servers: {}\ncoordination:\n  agentTtlMs: ${TOO_LONG}\n`, 3, 'coordination.agentTtlMs'],
      [`servers: {}\nhealth:\n  intervalMs: ${TOO_LONG}\n`, 3, 'health.intervalMs'],
      [
        `servers:\n  a:\n    command: x\n    cache: { ttlMs: ${TOO_LONG}, tools: [t] }\n`,
        4,
        'servers.a.cache.ttlMs',
      ],
    ];
    for (const [text, line, key] of cases) {
      assertRejects(text, { line, key, detail: /must be at most 2147483647 ms \(about 24\.8 days\)/ });
    }
    const ok = parseConfigText(`servers:\n  a: { command: x, timeoutMs: ${TOO_LONG - 1} }\n`, FILE, {});
    assert.equal(ok.servers.a!.timeoutMs, TOO_LONG - 1);
  });

  it('accepts only redis:// and rediss:// URLs (or empty) for coordination.redis', () => {
    for (const url of ['http://redis:6379', 'redis-host:6379', 'redis://']) {
      assertRejects(`servers: {}\ncoordination:\n  redis: "${url}"\n`, {
        line: 3,
        key: 'coordination.redis',
        detail: /must be a redis:\/\/ or rediss:\/\/ URL/,
      });
    }
    for (const url of ['redis://127.0.0.1:6379/0', 'rediss://:pw@cache.example:6380', '']) {
      const config = parseConfigText(`servers: {}\ncoordination:\n  redis: "${url}"\n`, FILE, {});
      assert.equal(config.coordination.redis, url);
    }
    const fromEnv = parseConfigText('servers: {}\ncoordination:\n  redis: ${REDIS_URL:-}\n', FILE, {});
    assert.equal(fromEnv.coordination.redis, '');
  });

  it('rejects __proto__, constructor and prototype as server ids by name', () => {
    for (const id of ['__proto__', 'constructor', 'prototype']) {
      assertRejects(`servers:\n  ok: { command: x }\n  ${id}: { command: y }\n`, {
        line: 3,
        key: `servers.${id}`,
        detail: new RegExp(`"${id}" cannot be a server id`),
      });
      assertRejects(`{\n  "mcpServers": {\n    "${id}": { "command": "y" }\n  }\n}\n`, {
        line: 3,
        key: `mcpServers.${id}`,
        detail: /cannot be a server id/,
      });
    }
  });
});

describe('special files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-special-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a FIFO instead of blocking on it', { timeout: 20_000 }, async () => {
    const fifo = join(dir, 'servers.yml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(
      loadConfig(fifo, {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === `${fifo}: is a FIFO (named pipe), not a regular file: refusing to read it`,
    );
  });

  it('refuses a device', { timeout: 20_000 }, async () => {
    await assert.rejects(loadConfig('/dev/zero', {}), /is a device, not a regular file/);
  });
});
