import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowedHostsFor,
  checkHost,
  checkOrigin,
  isLoopbackHost,
  type OriginCheck,
  selfOriginsFor,
} from '../../../src/http/origin.js';

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

function refused(check: OriginCheck, code: string): string {
  assert.equal(check.ok, false, 'expected a refusal');
  if (check.ok) throw new Error('unreachable');
  assert.equal(check.status, 403);
  assert.equal(check.code, code);
  return check.message;
}

describe('isLoopbackHost', () => {
  it('knows localhost, 127.0.0.0/8 and ::1 in its spellings', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
    ]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    assert.equal(isLoopbackHost('::ffff:127.0.0.1'), true);
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '128.0.0.1',
      'localhost.evil.example',
      'example.com',
      '::2',
    ]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe('allowedHostsFor', () => {
  it('a loopback bind accepts the loopback names (and the bind address itself)', () => {
    assert.deepEqual(allowedHostsFor('127.0.0.1'), LOOPBACK);
    assert.deepEqual(allowedHostsFor('localhost'), LOOPBACK);
    assert.deepEqual(allowedHostsFor('[::1]'), LOOPBACK);
    assert.deepEqual(allowedHostsFor('127.0.0.2'), [...LOOPBACK, '127.0.0.2']);
  });

  it('a specific non-loopback bind accepts that address; a wildcard bind any host', () => {
    assert.deepEqual(allowedHostsFor('10.0.0.5'), ['10.0.0.5']);
    assert.deepEqual(allowedHostsFor('Gateway.Example'), ['gateway.example']);
    for (const wildcard of ['0.0.0.0', '::', '[::]', '']) assert.deepEqual(allowedHostsFor(wildcard), ['*']);
  });

  it('a configured list wins, normalised, with or without ports', () => {
    assert.deepEqual(
      allowedHostsFor('127.0.0.1', ['MCP.example.com', 'localhost:8766', '::1', '[::1]:9000']),
      ['mcp.example.com', 'localhost:8766', '[::1]', '[::1]:9000'],
    );
    assert.deepEqual(allowedHostsFor('0.0.0.0', ['gw.internal']), ['gw.internal']);
    assert.deepEqual(allowedHostsFor('127.0.0.1', []), LOOPBACK, 'an empty list is no list');
  });

  it('refuses entries that are not hosts, naming them', () => {
    assert.throws(() => allowedHostsFor('127.0.0.1', ['http://x.example/']), /"http:\/\/x\.example\/"/);
    assert.throws(() => allowedHostsFor('127.0.0.1', ['a b']), /allowedHosts/);
    assert.throws(() => allowedHostsFor('127.0.0.1', ['host:99999']), /allowedHosts/);
  });
});

describe('checkHost', () => {
  const loopback = allowedHostsFor('127.0.0.1');

  it('accepts the loopback names on any port', () => {
    for (const host of ['localhost:8766', '127.0.0.1:8766', '[::1]:8766', 'localhost', 'LocalHost:1']) {
      assert.deepEqual(checkHost(host, loopback), { ok: true }, host);
    }
  });

  it('refuses a rebinding name, naming it; refuses a missing or malformed Host', () => {
    assert.match(refused(checkHost('evil.example:8766', loopback), 'host_not_allowed'), /evil\.example:8766/);
    assert.match(refused(checkHost('localhost.evil.example', loopback), 'host_not_allowed'), /allowedHosts/);
    assert.match(refused(checkHost(undefined, loopback), 'host_not_allowed'), /missing/);
    assert.match(refused(checkHost('', loopback), 'host_not_allowed'), /missing/);
    // What a URL parser would forgive: user info, a path.
    refused(checkHost('evil@localhost', loopback), 'host_not_allowed');
    refused(checkHost('localhost/x', loopback), 'host_not_allowed');
    refused(checkHost('localhost:8766:1', loopback), 'host_not_allowed');
  });

  it('an entry with a port accepts only that port; a Host without one is port 80 or 443', () => {
    const allowed = allowedHostsFor('0.0.0.0', ['mcp.example.com', 'localhost:8766', 'gw.example:443']);
    assert.deepEqual(checkHost('mcp.example.com:1234', allowed), { ok: true });
    assert.deepEqual(checkHost('localhost:8766', allowed), { ok: true });
    refused(checkHost('localhost:8767', allowed), 'host_not_allowed');
    refused(checkHost('localhost', allowed), 'host_not_allowed');
    assert.deepEqual(checkHost('gw.example', allowed), { ok: true });
    assert.deepEqual(checkHost('gw.example:443', allowed), { ok: true });
    refused(checkHost('gw.example:8443', allowed), 'host_not_allowed');
  });

  it('a specific bind accepts only its own address; * accepts anything', () => {
    const lan = allowedHostsFor('10.0.0.5');
    assert.deepEqual(checkHost('10.0.0.5:8766', lan), { ok: true });
    refused(checkHost('localhost:8766', lan), 'host_not_allowed');
    assert.deepEqual(checkHost('whatever.example', allowedHostsFor('0.0.0.0')), { ok: true });
  });

  it('does not let a long header through unclipped into the message', () => {
    const message = refused(checkHost(`${'a'.repeat(500)}.example`, loopback), 'host_not_allowed');
    assert.ok(message.length < 250, message);
  });
});

describe('checkOrigin', () => {
  const selfOrigins = selfOriginsFor('127.0.0.1:8766');
  const policy = { allowedOrigins: [] as string[], selfOrigins };

  it('selfOriginsFor: both schemes of the Host the request came in on', () => {
    assert.deepEqual(selfOrigins, ['http://127.0.0.1:8766', 'https://127.0.0.1:8766']);
    assert.deepEqual(selfOriginsFor('[::1]:80'), ['http://[::1]:80', 'https://[::1]:80']);
    assert.deepEqual(selfOriginsFor('bad host'), []);
  });

  it('no Origin: allowed (not a browser)', () => {
    assert.deepEqual(checkOrigin(undefined, policy), { ok: true });
    assert.deepEqual(checkOrigin('', policy), { ok: true });
  });

  it("the server's own origin passes, exactly: another port or scheme on the same host does not", () => {
    assert.deepEqual(checkOrigin('http://127.0.0.1:8766', policy), { ok: true });
    assert.match(
      refused(checkOrigin('http://127.0.0.1:3000', policy), 'origin_not_allowed'),
      /127\.0\.0\.1:3000/,
    );
    refused(checkOrigin('http://localhost:8766', policy), 'origin_not_allowed');
    refused(checkOrigin('ftp://127.0.0.1:8766', policy), 'origin_not_allowed');
  });

  it('Origin: null and garbage are refused', () => {
    assert.match(refused(checkOrigin('null', policy), 'origin_not_allowed'), /opaque/);
    refused(checkOrigin('not a url', policy), 'origin_not_allowed');
    refused(checkOrigin('http://', policy), 'origin_not_allowed');
  });

  it('http.allowedOrigins: full origins, bare hosts (any port unless given), non-web scheme wildcards', () => {
    const allowedOrigins = [
      'https://app.example.com',
      'dash.internal',
      'tools.local:3000',
      'moz-extension://*',
    ];
    const p = { allowedOrigins, selfOrigins };
    assert.deepEqual(checkOrigin('https://app.example.com', p), { ok: true });
    refused(checkOrigin('http://app.example.com', p), 'origin_not_allowed');
    refused(checkOrigin('https://app.example.com:8443', p), 'origin_not_allowed');
    refused(checkOrigin('https://evil.app.example.com', p), 'origin_not_allowed');
    assert.deepEqual(checkOrigin('http://dash.internal:8080', p), { ok: true });
    assert.deepEqual(checkOrigin('https://dash.internal', p), { ok: true });
    assert.deepEqual(checkOrigin('http://tools.local:3000', p), { ok: true });
    refused(checkOrigin('http://tools.local:3001', p), 'origin_not_allowed');
    assert.deepEqual(checkOrigin('moz-extension://4f1c-anything', p), { ok: true });
    refused(checkOrigin('chrome-extension://abcdef', p), 'origin_not_allowed');
  });

  it('`http://*` does not open the door to every website', () => {
    const p = { allowedOrigins: ['http://*', 'https://*'], selfOrigins };
    refused(checkOrigin('http://evil.example', p), 'origin_not_allowed');
    refused(checkOrigin('https://evil.example', p), 'origin_not_allowed');
  });
});
