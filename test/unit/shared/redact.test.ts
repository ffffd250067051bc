import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseConfigText } from '../../../src/config/index.js';
import { createEvent } from '../../../src/coordination/events.js';
import { ConfigError, TransportFailureError } from '../../../src/shared/errors.js';
import { createLogger } from '../../../src/shared/logger.js';
import { toMcpError } from '../../../src/shared/mcp-errors.js';
import { clearSecrets, markSecret, redact, redactValue } from '../../../src/shared/redact.js';
import { assertRejects } from '../config/config-error.js';

afterEach(() => clearSecrets());

describe('redact', () => {
  it('hides URL userinfo, Bearer and Basic credentials, and marked values', () => {
    markSecret('hunter2-long');
    assert.equal(
      redact('GET http://ada:pw@host/mcp failed; redis://:s3cret@r:6379 down; key hunter2-long'),
      'GET http://***@host/mcp failed; redis://***@r:6379 down; key ***',
    );
    assert.equal(redact('Authorization: Bearer abc.def.ghi-123'), 'Authorization: Bearer ***');
    assert.equal(redact('Authorization: Basic dXNlcjpwYXNz'), 'Authorization: Basic ***');
  });

  it('leaves prose and short values alone', () => {
    markSecret('dev');
    const text = 'Basic authentication failed for the dev server at http://host:8080/mcp';
    assert.equal(redact(text), text);
  });

  it('copies a structure only where something was hidden', () => {
    markSecret('tok-123456');
    const clean = { a: ['x'], b: { c: 1 } };
    assert.equal(redactValue(clean), clean);
    const dirty = { keep: { n: 1 }, error: ['connect http://u:p@h failed', 'tok-123456'] };
    assert.deepEqual(redactValue(dirty), { keep: { n: 1 }, error: ['connect http://***@h failed', '***'] });
    assert.equal(dirty.error[1], 'tok-123456', 'the original is not changed');
  });
});

describe('every way out is redacted', () => {
  it('log lines, wire errors, events and config errors', () => {
    markSecret('sk-live-0123456789');
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).warn('upstream said sk-live-0123456789', {
      url: 'https://bob:pw@x/mcp',
    });
    assert.doesNotMatch(lines[0]!, /sk-live|bob|pw@/);

    const wire = toMcpError(
      new TransportFailureError('docs', 'closed', 'docs: fetch https://bob:pw@x/mcp failed'),
    );
    assert.equal(wire.message, 'docs: fetch https://***@x/mcp failed');

    const event = createEvent(
      { type: 'health:degraded', data: { server: 'docs', error: 'token sk-live-0123456789 refused' } },
      { source: 's', agentId: 'a' },
    );
    assert.deepEqual(event.data, { server: 'docs', error: 'token *** refused' });

    assert.doesNotMatch(new ConfigError('f', 1, 'k', 'bad http://u:sk-live-0123456789@h').message, /sk-live/);
  });
});

describe('config', () => {
  it('refuses credentials in a server URL, naming file, line and key, never echoing them', () => {
    for (const url of ['http://ada:hunter2@docs.example/mcp', 'http://ada:${DOCS_PW}@docs.example/mcp']) {
      assertRejects(
        `servers:\n  docs:\n    url: ${url}\n`,
        { line: 3, key: 'servers.docs.url', detail: /must not carry credentials/ },
        { DOCS_PW: 'from-env-pw' },
      );
      try {
        parseConfigText(`servers:\n  docs:\n    url: ${url}\n`, '/p/servers.yml', { DOCS_PW: 'from-env-pw' });
      } catch (error) {
        assert.doesNotMatch((error as Error).message, /hunter2|from-env-pw/);
      }
    }
  });

  it('marks header values and ${VAR}s of credential keys secret', () => {
    parseConfigText(
      'servers:\n  docs:\n    url: http://h/mcp\n    headers: { Authorization: "Bearer ${DOCS_TOKEN}", X-Api-Key: literal-team-key }\n  fs:\n    command: x\n    env: { API_KEY: "${SOME_VALUE}", DATA: "${HOME}/data" }\n',
      '/p/servers.yml',
      { DOCS_TOKEN: 'tok-from-env', SOME_VALUE: 'child-api-value', HOME: '/home/ada' },
    );
    assert.equal(redact('tok-from-env literal-team-key child-api-value /home/ada'), '*** *** *** /home/ada');
  });
});
