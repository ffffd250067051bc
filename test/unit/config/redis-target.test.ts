import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseConfigText } from '../../../src/config/index.js';
import {
  describeTarget,
  hashTaggedPrefix,
  storeKeyPrefix,
  targetSecrets,
} from '../../../src/coordination/redis-target.js';
import { redact } from '../../../src/shared/redact.js';
import { assertRejects, FILE } from './config-error.js';

const parse = (redis: string, env: Record<string, string> = {}) =>
  parseConfigText(`servers: {}\ncoordination:\n  redis: ${redis}\n`, FILE, env).coordination.redis;

describe('coordination.redis: Cluster and Sentinel', () => {
  it('accepts { cluster: [urls] } and { sentinels, name } with an optional password', () => {
    assert.deepEqual(parse('{ cluster: ["redis://127.0.0.1:7000", "rediss://:pw@h:7001"] }'), {
      cluster: ['redis://127.0.0.1:7000', 'rediss://:pw@h:7001'],
    });
    assert.deepEqual(
      parse('{ sentinels: ["10.0.0.1:26379", "s2:26379"], name: mymaster, password: "${PW}" }', {
        PW: 'hunter22',
      }),
      {
        sentinels: ['10.0.0.1:26379', 's2:26379'],
        name: 'mymaster',
        password: 'hunter22',
      },
    );
  });

  it('names the wrong key in each error', () => {
    assertRejects(`servers: {}\ncoordination:\n  redis: { cluster: [] }\n`, {
      line: 3,
      key: 'coordination.redis.cluster',
      detail: /at least 1/,
    });
    assertRejects(`servers: {}\ncoordination:\n  redis: { cluster: ["http://x:1"] }\n`, {
      line: 3,
      key: 'coordination.redis.cluster[0]',
      detail: /redis:\/\/host:port/,
    });
    assertRejects(`servers: {}\ncoordination:\n  redis: { sentinels: ["s:26379"] }\n`, {
      line: 3,
      key: 'coordination.redis.name',
      detail: /is required/,
    });
    assertRejects(`servers: {}\ncoordination:\n  redis: { sentinels: ["s:26379"], name: m, pasword: x }\n`, {
      line: 3,
      key: 'coordination.redis.pasword',
      detail: /unknown key "pasword"/,
    });
    assertRejects(`servers: {}\ncoordination:\n  redis: { nodes: ["redis://x:1"] }\n`, {
      line: 3,
      key: 'coordination.redis',
      detail: /\{ cluster: \[/,
    });
  });

  it('redacts every password a target carries', () => {
    parse('{ cluster: ["redis://u:clusterpw1@h:7000"] }');
    parse('{ sentinels: ["redis://:sentinelpw2@s:26379"], name: m, password: masterpw3 }');
    assert.equal(
      redact('x clusterpw1 sentinelpw2 masterpw3'),
      'x *** *** ***'.replace(/\*\*\*/g, (m) => m),
    );
    assert.deepEqual(targetSecrets({ sentinels: ['redis://:a1b2c3@s:1'], name: 'm', password: 'p9p9p9' }), [
      'a1b2c3',
      'p9p9p9',
    ]);
    assert.equal(describeTarget({ cluster: ['redis://u:secretpw@h:7000'] }), 'cluster h:7000');
  });

  it('hash-tags the store prefix on a Cluster only', () => {
    assert.equal(hashTaggedPrefix('mcp:'), '{mcp}:');
    assert.equal(hashTaggedPrefix('team-a:mcp:'), '{team-a:mcp}:');
    assert.equal(hashTaggedPrefix('{t}:mcp:'), '{t}:mcp:');
    assert.equal(hashTaggedPrefix(''), '{mcp}:');
    assert.equal(storeKeyPrefix({ cluster: ['redis://h:1'] }, 'mcp:'), '{mcp}:');
    assert.equal(storeKeyPrefix('redis://h:1', 'mcp:'), 'mcp:');
    assert.equal(storeKeyPrefix({ sentinels: ['h:1'], name: 'm' }, 'mcp:'), 'mcp:');
  });
});
