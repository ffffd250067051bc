/** CatalogState.find waits only for the servers that could own the name looked up. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Downstream, DownstreamStatus } from '../../../src/downstream/types.js';
import type { ServerConfig } from '../../../src/config/schema.js';
import { CatalogState, type PoolView } from '../../../src/server/catalog-state.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { NS, snapshot, tool } from '../catalog/snapshots.js';

interface Fake {
  id: string;
  config: ServerConfig;
  status: DownstreamStatus;
  snapshot: Downstream['snapshot'];
}

function fakePool(servers: Fake[]) {
  const events = new EventEmitter();
  const pool = {
    all: () => servers as unknown as Downstream[],
    on: (event: string, listener: () => void) => events.on(event, listener),
  } as unknown as PoolView;
  const connect = (id: string, tools: string[]) => {
    const s = servers.find((x) => x.id === id)!;
    s.status = 'connected';
    s.snapshot = snapshot({ tools: tools.map((n) => tool(n)) });
    events.emit('catalog', id);
  };
  return { pool, connect };
}

const starting = (id: string, config: Partial<ServerConfig> = {}): Fake => ({
  id,
  config: { startup: 'eager', ...config } as ServerConfig,
  status: 'starting',
  snapshot: undefined,
});

describe('CatalogState.find', () => {
  it('waits for the owner of a prefix, not for a server stuck starting', async () => {
    const { pool, connect } = fakePool([starting('stuck'), starting('ok')]);
    const state = new CatalogState({ pool, namespace: NS, builtinTools: [], logger: silentLogger });
    const found = state.find((c) => c.resolveTool('ok__echo'), 'ok__echo', 60_000);
    setTimeout(() => connect('ok', ['echo']), 20);
    const started = Date.now();
    assert.deepEqual((await found)?.members, ['ok']);
    assert.ok(Date.now() - started < 5_000);
    assert.ok(state.isSettling(), 'stuck is still starting');
  });

  it('waits for unprefixed servers (they could expose any name), then answers an unknown name at once', async () => {
    const { pool, connect } = fakePool([starting('stuck'), starting('bare', { prefix: '' })]);
    const state = new CatalogState({ pool, namespace: NS, builtinTools: [], logger: silentLogger });
    assert.deepEqual(
      state.couldOwn('x').map((d) => d.id),
      ['bare'],
    );
    assert.deepEqual(
      state.couldOwn('stuck__x').map((d) => d.id),
      ['stuck', 'bare'],
    );
    const found = state.find((c) => c.resolveTool('x'), 'x', 60_000);
    setTimeout(() => connect('bare', ['x']), 20);
    assert.deepEqual((await found)?.members, ['bare']);
    const started = Date.now();
    assert.equal(await state.find((c) => c.resolveTool('nobody__x'), 'nobody__x', 60_000), undefined);
    assert.ok(Date.now() - started < 1_000);
    assert.ok(state.isSettling(), 'stuck is still starting');
  });

  it('looks again after the rebuild scheduled for a server that has just connected', async () => {
    const { pool, connect } = fakePool([starting('ok')]);
    const state = new CatalogState({ pool, namespace: NS, builtinTools: [], logger: silentLogger });
    connect('ok', ['echo']);
    // Connected, but the rebuild is coalesced onto the next turn: the catalog does not have it yet.
    assert.equal(state.current.resolveTool('ok__echo'), undefined);
    assert.deepEqual((await state.find((c) => c.resolveTool('ok__echo'), 'ok__echo', 60_000))?.members, [
      'ok',
    ]);
  });
});
