/**
 * The dashboard behind a plain round-robin balancer (no affinity) in front of two built
 * `serve --http` instances on one real Redis: a dashboard session lives in the instance that
 * signed it in, and whichever instance a request of that page lands on hands it there
 * (`x-mcp-coordinator-via` names the one it landed on) — reads, the live event stream, a call with
 * its CSRF token, and sign-out, after which neither instance knows the session.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, type HttpCoordinator } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
// @ts-expect-error: a plain JS fixture without types
import { startBalancer } from '../fixtures/balancer.mjs';

const INSTANCE = 'x-mcp-coordinator-instance';
const VIA = 'x-mcp-coordinator-via';
const KEY = 'dash-key-0123456789abcdef0000';

describe('dashboard sessions across two instances behind a balancer', () => {
  const dir = tempDir();
  let redis: RedisServer;
  let a: HttpCoordinator;
  let b: HttpCoordinator;
  let balancer: { url: string; close(): Promise<void> };
  const urlOf = new Map<string, string>();
  const prefix = `dash-${randomBytes(3).toString('hex')}:`;

  before(async () => {
    redis = await startRedis();
    const file = writeConfig(dir.path, {
      servers: {},
      coordination: {
        redis: redis.url,
        prefix,
        secret: 'a-shared-secret-of-enough-length-for-tests',
      },
      http: {
        auth: { keys: [{ name: 'ops', key: KEY, scopes: ['read', 'call', 'admin'], agent: 'ops-bot' }] },
      },
    });
    [a, b] = await Promise.all([startHttp(file), startHttp(file)]);
    for (const c of [a, b]) urlOf.set((await api(c.url, '/health')).headers.get(INSTANCE)!, c.url);
    // Each instance finds the other in the registry only once both have announced themselves.
    const store = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await store.connect();
    try {
      await waitFor(
        async () => (await store.hlen(`${prefix}instances`)) === 2,
        20_000,
        'both instances announced',
      );
    } finally {
      store.disconnect();
    }
    balancer = (await startBalancer([a.url, b.url])) as typeof balancer;
  });
  after(async () => {
    await balancer?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    dir.remove();
  });

  /** A request as the dashboard's page at `base` sends it: its own Origin, the cookie, the token. */
  const fromPage = (
    base: string,
    path: string,
    cookie: string,
    init: { method?: string; csrf?: string } = {},
  ) =>
    api(base, path, {
      ...(init.method && { method: init.method }),
      ...(init.method === 'POST' && { body: {} }),
      headers: { origin: base, cookie, ...(init.csrf && { 'x-csrf-token': init.csrf }) },
    });

  test('a session signed in on one instance is served through the other; sign-out ends it everywhere', async () => {
    const signIn = await fetch(`${balancer.url}/ui/session`, {
      method: 'POST',
      headers: { origin: balancer.url, 'content-type': 'application/json' },
      body: JSON.stringify({ key: KEY }),
    });
    assert.equal(signIn.status, 200);
    const owner = signIn.headers.get(INSTANCE)!;
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    assert.match(cookie, new RegExp(`^mcpc_session=${owner}\\.`), 'the session id names its instance');
    const ownerUrl = urlOf.get(owner)!;
    const otherUrl = [...urlOf.values()].find((u) => u !== ownerUrl)!;
    const other = [...urlOf.keys()].find((t) => t !== owner)!;

    // Through the balancer: every read works, whichever instance it lands on, and is answered by the owner.
    const vias = new Set<string | null>();
    for (let i = 0; i < 6; i++) {
      const status = await fromPage(balancer.url, '/status', cookie);
      assert.equal(status.status, 200, JSON.stringify(status.json));
      assert.equal(status.headers.get(INSTANCE), owner);
      vias.add(status.headers.get(VIA));
    }
    assert.ok(vias.has(other), `some requests landed on the other instance: ${[...vias].join(',')}`);
    const session = await fromPage(otherUrl, '/ui/session', cookie);
    assert.equal((session.json as { signedIn?: boolean }).signedIn, true);
    assert.equal(session.headers.get(VIA), other);

    // The live event stream, opened on the other instance, flows from the owner.
    const abort = new AbortController();
    const stream = await fetch(`${otherUrl}/api/events/stream`, {
      headers: { origin: otherUrl, cookie },
      signal: abort.signal,
    });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.equal(stream.headers.get(INSTANCE), owner);
    abort.abort();

    // A call from the page on the other instance: refused without the token, run with it, as the key's agent.
    const without = await fromPage(otherUrl, '/api/tools/coordinator__list_locks/call', cookie, {
      method: 'POST',
    });
    assert.equal(without.status, 403);
    assert.equal((without.json as { error?: { code?: string } }).error?.code, 'csrf');
    const lock = await api(otherUrl, '/api/tools/coordinator__lock_file/call', {
      body: { arguments: { file: 'src/dash.ts' } },
      headers: { origin: otherUrl, cookie, 'x-csrf-token': csrfToken },
    });
    assert.equal(lock.status, 200, JSON.stringify(lock.json));
    const locks = await api(ownerUrl, '/api/locks', { headers: { authorization: `Bearer ${KEY}` } });
    assert.match(JSON.stringify(locks.json), /"file":"src\/dash\.ts","holder":"ops-bot"/);

    // Sign out where the session is not held: it ends on its owner, and no instance takes the cookie.
    const out = await fromPage(otherUrl, '/ui/session', cookie, { method: 'DELETE', csrf: csrfToken });
    assert.equal(out.status, 200);
    for (const url of [ownerUrl, otherUrl]) {
      assert.equal((await fromPage(url, '/status', cookie)).status, 401, url);
    }
  });

  test('a made-up cookie naming a live instance is not forwarded: its signature is checked first', async () => {
    const [tagA, tagB] = [...urlOf.keys()];
    const forged = `mcpc_session=${tagB}.${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
    const status = await fromPage(urlOf.get(tagA!)!, '/status', forged);
    assert.equal(status.status, 401);
    assert.equal(status.headers.get(INSTANCE), tagA);
    assert.equal(status.headers.get(VIA), null);
  });

  test('a cookie naming an instance nobody knows is no session: 401, and the page can sign in again', async () => {
    const cookie = `mcpc_session=0123456789ab.${randomBytes(32).toString('base64url')}`;
    const status = await fromPage(balancer.url, '/status', cookie);
    assert.equal(status.status, 401);
    assert.equal(status.headers.get(VIA), null);
    const session = await fromPage(balancer.url, '/ui/session', cookie);
    assert.equal((session.json as { signedIn?: boolean }).signedIn, false);
  });
});
