/** couldExpose: every name the merge exposes is claimed by its owners' namespaces, and only by them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog, type CatalogSource } from '../../../src/catalog/index.js';
import { couldExpose, type NamespaceOwner } from '../../../src/catalog/could-own.js';
import { NS, source } from './snapshots.js';

const owner = (s: CatalogSource): NamespaceOwner => ({ id: s.serverId, prefix: s.prefix, group: s.group });

describe('couldExpose', () => {
  const sources = [
    source('a', ['x', 'y']),
    source('b.c', ['x']),
    source('bare', ['x', 'plain'], { prefix: '' }),
    source('r1', ['x'], { group: 'g' }),
    source('r2', ['x'], { group: 'g', prefix: 'grp' }),
    source('long-server-id-that-eats-the-budget-of-the-name', ['a_tool_name_long_enough_to_be_cut']),
    source('late', ['y'], { prefix: 'a' }),
  ];
  const peers = sources.map(owner);
  const catalog = buildCatalog(sources, { namespace: NS });

  it('is true for each member of every exposed name (prefixes, groups, clash losers, cut names)', () => {
    assert.ok(catalog.tools.length >= 8, catalog.tools.map((t) => t.name).join());
    for (const t of catalog.tools) {
      const route = catalog.resolveTool(t.name)!;
      if (route.builtin) continue;
      for (const member of route.members) {
        const server = peers.find((p) => p.id === member)!;
        assert.ok(couldExpose(t.name, server, peers, NS), `${member} could expose ${t.name}`);
      }
    }
  });

  it('is false for a prefixed server and a name of another namespace; unprefixed ones may own any', () => {
    const a = peers[0]!;
    assert.equal(couldExpose('nobody__x', a, peers, NS), false);
    assert.equal(couldExpose('ab__x', a, peers, NS), false);
    assert.equal(couldExpose('x', a, peers, NS), false);
    assert.equal(couldExpose('nobody__x', peers[2]!, peers, NS), true);
    assert.equal(couldExpose('grp__x', peers[3]!, peers, NS), true, 'a group member by the group prefix');
  });
});
