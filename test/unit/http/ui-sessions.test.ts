/**
 * The dashboard's cookie sessions: bounded and expiring, the cookie honoured only from the page's
 * own origin and never over a key in the headers, the CSRF token required for any change.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { SCOPES, type Principal } from '../../../src/http/principal.js';
import { HttpError } from '../../../src/http/respond.js';
import { cookieOf, fromOwnPage, sessionCookie, UiSessions } from '../../../src/http/ui-sessions.js';

const HOST = '127.0.0.1:8766';
const ops: Principal = { name: 'ops', agentId: 'ops-bot', scopes: new Set(SCOPES), kind: 'key' };
const req = (headers: IncomingHttpHeaders, method = 'GET') =>
  ({ headers: { host: HOST, ...headers }, method }) as IncomingMessage;
const page = (id: string, extra: IncomingHttpHeaders = {}) => ({
  cookie: `other=1; mcpc_session=${id}`,
  'sec-fetch-site': 'same-origin',
  ...extra,
});

describe('UiSessions', () => {
  it('a session from the own page is its principal; a change needs the CSRF token', () => {
    const sessions = new UiSessions();
    const s = sessions.create(ops);
    assert.equal(sessions.principalOf(req(page(s.id))), ops);
    const refused = sessions.principalOf(req(page(s.id), 'POST'));
    assert.ok(refused instanceof HttpError);
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'csrf');
    assert.ok(
      sessions.principalOf(req(page(s.id, { 'x-csrf-token': 'x'.repeat(43) }), 'POST')) instanceof HttpError,
    );
    assert.equal(sessions.principalOf(req(page(s.id, { 'x-csrf-token': s.csrf }), 'POST')), ops);
  });

  it('the cookie does not count from another origin, without browser headers, or beside a key', () => {
    const sessions = new UiSessions();
    const { id } = sessions.create(ops);
    const cookie = `mcpc_session=${id}`;
    assert.equal(sessions.principalOf(req({ cookie })), undefined, 'no Origin, no Sec-Fetch-Site');
    assert.equal(sessions.principalOf(req({ cookie, 'sec-fetch-site': 'same-site' })), undefined);
    assert.equal(sessions.principalOf(req({ cookie, origin: 'http://localhost:3000' })), undefined);
    assert.equal(sessions.principalOf(req({ cookie, origin: `http://${HOST}` })), ops);
    assert.equal(sessions.principalOf(req({ ...page(id), authorization: 'Bearer k' })), undefined);
    assert.equal(sessions.principalOf(req(page('forged'))), undefined);
  });

  it('sessions expire, end on sign-out, and the oldest goes first past the bound', () => {
    let now = 0;
    const sessions = new UiSessions({ ttlMs: 1_000, maxSessions: 2, now: () => now });
    const a = sessions.create(ops);
    now = 500;
    const b = sessions.create(ops);
    const c = sessions.create(ops);
    assert.equal(sessions.size, 2);
    assert.equal(sessions.principalOf(req(page(a.id))), undefined, 'evicted');
    assert.equal(sessions.principalOf(req(page(b.id))), ops);
    sessions.end(b.id);
    assert.equal(sessions.principalOf(req(page(b.id))), undefined, 'signed out');
    now = 1_500;
    assert.equal(sessions.principalOf(req(page(c.id))), undefined, 'expired');
  });

  it('parses cookies and writes an HttpOnly SameSite=Strict one', () => {
    assert.equal(cookieOf('a=1; mcpc_session=xyz ;b=2', 'mcpc_session'), 'xyz');
    assert.equal(cookieOf('mcpc_sessionx=1', 'mcpc_session'), undefined);
    assert.equal(
      sessionCookie('id', 60, false),
      'mcpc_session=id; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    assert.match(sessionCookie('id', 60, true), /; Secure$/);
    assert.equal(fromOwnPage(req({ origin: `https://${HOST}`, 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(fromOwnPage(req({ origin: 'null' })), false);
  });
});
