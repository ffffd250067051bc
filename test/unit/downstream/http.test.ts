import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TransportFailureError } from '../../../src/shared/errors.js';
import {
  FAST,
  freePort,
  type HttpFixture,
  remote,
  startHttpFixture,
  statusLog,
  waitFor,
  withPool,
} from './helpers.js';

const fixtures: HttpFixture[] = [];
after(async () => {
  await Promise.all(fixtures.map((f) => f.stop()));
});

async function fixture(args: string[] = [], port = 0): Promise<HttpFixture> {
  const started = await startHttpFixture(args, port);
  fixtures.push(started);
  return started;
}

const HEADER = ['--require-header', 'X-Token=s3cret'];
const headers = { 'X-Token': 's3cret' };

describe('remote downstreams', () => {
  for (const transport of ['streamable-http', 'sse'] as const) {
    const path = transport === 'sse' ? '/sse' : '/mcp';

    it(`connects over ${transport}, sending the configured headers, and calls a tool`, async () => {
      const http = await fixture([...HEADER, '--name', `web-${transport}`, '--page-size', '2']);
      const config = remote(`http://127.0.0.1:${http.port}${path}`, { transport, headers });
      await withPool([['web', config]], async (pool) => {
        const web = pool.get('web')!;
        assert.equal(web.transport, transport);
        pool.startAll();
        const client = await web.whenReady(10_000);
        assert.equal(web.snapshot?.serverInfo.name, `web-${transport}`);
        assert.equal(web.snapshot?.tools.length, 8, 'pagination drained over HTTP too');
        const echoed = await client.callTool({ name: 'echo', arguments: { text: transport } });
        assert.deepEqual(echoed.content, [{ type: 'text', text: transport }]);
        assert.ok((await web.ping(2_000)) >= 0);
      });
    });

    it(`over ${transport}, a missing header is a failed connect, not a hang`, async () => {
      const http = await fixture(HEADER);
      const config = remote(`http://127.0.0.1:${http.port}${path}`, { transport });
      await withPool([['denied', config]], async (pool) => {
        const denied = pool.get('denied')!;
        pool.startAll();
        await waitFor(() => denied.lastError !== undefined, 5_000, 'a failed attempt');
        assert.match(denied.lastError ?? '', /denied: .*(403|Forbidden|missing header)/i);
        assert.notEqual(denied.status, 'connected');
      });
    });
  }

  it('keeps retrying a streamable-http server that is down at start, and connects once it is up', async () => {
    const port = await freePort();
    await withPool([['late', remote(`http://127.0.0.1:${port}/mcp`)]], async (pool) => {
      const late = pool.get('late')!;
      pool.startAll();
      await waitFor(() => late.restarts >= FAST.maxFailures!, 5_000, 'several refused attempts');
      // A remote server that is down is not crash-looping: it stays on the normal backoff ...
      assert.notEqual(late.status, 'crash-loop');
      assert.match(late.lastError ?? '', /^late: fetch failed: connect ECONNREFUSED/);
      // ... while callers stop waiting for it (they fail, or fail over, at once).
      await assert.rejects(late.whenReady(10_000), (error: unknown) => {
        assert.ok(error instanceof TransportFailureError);
        assert.equal(error.reason, 'unavailable');
        assert.match(
          error.message,
          /late is unavailable \(status (restarting|starting); last error: late: fetch failed/,
        );
        return true;
      });
      await fixture(['--name', 'late'], port);
      await waitFor(() => late.status === 'connected', 10_000, 'connected once the server is up');
      assert.equal(late.snapshot?.serverInfo.name, 'late');
      assert.ok(await late.whenReady(1_000));
    });
  });

  for (const transport of ['streamable-http', 'sse'] as const) {
    it(`reconnects a ${transport} session after the server restarts`, async () => {
      const first = await fixture(['--name', 'phoenix']);
      const url = `http://127.0.0.1:${first.port}${transport === 'sse' ? '/sse' : '/mcp'}`;
      await withPool([['phoenix', remote(url, { transport })]], async (pool) => {
        const phoenix = pool.get('phoenix')!;
        pool.startAll();
        const before = await phoenix.whenReady(10_000);
        const log = statusLog(phoenix);
        await first.stop();
        // A call on the dead session fails at the transport, which ends the session at once.
        await assert.rejects(before.callTool({ name: 'echo', arguments: { text: 'x' } }));
        await waitFor(() => log.includes('restarting'), 10_000, 'restarting');
        await fixture(['--name', 'phoenix'], first.port);
        await waitFor(() => phoenix.status === 'connected', 15_000, 'reconnected');
        const after = await phoenix.whenReady(1_000);
        assert.notEqual(after, before);
        const echoed = await after.callTool({ name: 'echo', arguments: { text: 'back' } });
        assert.deepEqual(echoed.content, [{ type: 'text', text: 'back' }]);
        assert.ok(phoenix.restarts >= 1);
      });
    });
  }
});
