import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog, catalogDiff, type CatalogSource } from '../../../src/catalog/index.js';
import { NS, source } from './snapshots.js';

/** 5 plain servers × 900 tools, plus a group of 2 replicas × 500 (one exposed set): 4,500 + 500. */
function sources(): CatalogSource[] {
  const list: CatalogSource[] = [];
  for (let s = 0; s < 5; s++) {
    list.push(
      source(
        `server-${s}`,
        Array.from(
          { length: 900 },
          (_, i) => `tool_${i}_of_a_rather_long_descriptive_name_for_testing.v${s}`,
        ),
      ),
    );
  }
  const replicated = Array.from({ length: 500 }, (_, i) => `replicated_${i}`);
  list.push(
    source('replica-a', replicated, { group: 'pool' }),
    source('replica-b', replicated, { group: 'pool' }),
  );
  return list;
}

describe('a catalog of 5,000 tools', () => {
  const catalog = buildCatalog(sources(), { namespace: NS });

  it('exposes every tool once, under a valid, unique name within budget', () => {
    assert.equal(catalog.tools.length, 5000);
    const names = new Set(catalog.tools.map((t) => t.name));
    assert.equal(names.size, 5000);
    for (const name of names) {
      assert.match(name, /^[A-Za-z0-9_-]{1,64}$/);
    }
    assert.deepEqual(catalog.clashes, []);
    // The plain servers' names are over budget, so the hash path is exercised at scale too.
    assert.equal(catalog.tools.filter((t) => /-[0-9a-f]{8}$/.test(t.name)).length, 4500);
  });

  it('routes every exposed name back to its original name and members', () => {
    for (const t of catalog.tools) {
      const route = catalog.resolveTool(t.name);
      assert.ok(route, t.name);
      assert.equal(route.originalName, t._meta?.['coordinator/originalName']);
      if (route.group) assert.deepEqual(route.members, ['replica-a', 'replica-b']);
      else assert.deepEqual(route.members, [t._meta?.['coordinator/server']]);
    }
  });

  it('pages through the whole list with the default page size', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { page, nextCursor } = catalog.listTools(cursor);
      seen.push(...page.map((t) => t.name));
      cursor = nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, 5);
    assert.deepEqual(
      seen,
      catalog.tools.map((t) => t.name),
    );
  });

  it('rebuilds to the same names and fingerprints', () => {
    const again = buildCatalog(sources(), { namespace: NS });
    assert.deepEqual(
      again.tools.map((t) => t.name),
      catalog.tools.map((t) => t.name),
    );
    assert.deepEqual(catalogDiff(catalog, again), { tools: false, prompts: false, resources: false });
  });
});
