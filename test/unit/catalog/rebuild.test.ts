/** Rebuilds reuse what did not change (exposed objects, their JSON), and only that. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog, catalogDiff } from '../../../src/catalog/index.js';
import { NS, source, tool } from './snapshots.js';

describe('catalog rebuilds', () => {
  it('keep the exposed object of an item whose exposure did not change', () => {
    const a = source('a', ['x', 'y']);
    const first = buildCatalog([a], { namespace: NS });
    const second = buildCatalog([a, source('b', ['z'])], { namespace: NS });
    assert.equal(second.tools[0], first.tools[0]);
    assert.equal(second.tools[1], first.tools[1]);
    assert.deepEqual(catalogDiff(first, second), { tools: true, prompts: false, resources: false });
    assert.deepEqual(catalogDiff(second, buildCatalog([a, source('b', ['z'])], { namespace: NS })), {
      tools: false,
      prompts: false,
      resources: false,
    });
  });

  it('expose an item anew when its name, owner or members change', () => {
    const x = tool('x');
    const b = () => source('b', [], { snapshot: { tools: [x] }, prefix: '' });
    const alone = buildCatalog([b()], { namespace: NS });
    // An earlier server with the same bare name wins the clash: the same item gets another name.
    const clashed = buildCatalog([source('a', ['x'], { prefix: '' }), b()], { namespace: NS });
    const mine = clashed.tools.find((t) => t._meta?.['coordinator/server'] === 'b')!;
    assert.notEqual(mine, alone.tools[0]);
    assert.equal(alone.tools[0]!.name, 'x');
    assert.equal(mine.name, 'b__x');

    const one = buildCatalog([source('r1', [], { snapshot: { tools: [x] }, group: 'g' })], { namespace: NS });
    const two = buildCatalog(
      [source('r1', [], { snapshot: { tools: [x] }, group: 'g' }), source('r2', ['x'], { group: 'g' })],
      { namespace: NS },
    );
    assert.notEqual(two.tools[0], one.tools[0]);
    assert.deepEqual(two.tools[0]!._meta?.['coordinator/members'], ['r1', 'r2']);
  });

  it('fingerprint content, not identity', () => {
    const before = buildCatalog([source('a', ['x'])], { namespace: NS });
    const same = buildCatalog([source('a', ['x'])], { namespace: NS });
    const changed = buildCatalog(
      [source('a', [], { snapshot: { tools: [tool('x', { description: 'new' })] } })],
      {
        namespace: NS,
      },
    );
    assert.equal(catalogDiff(before, same).tools, false);
    assert.equal(catalogDiff(before, changed).tools, true);
  });
});
