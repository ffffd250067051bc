import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog, catalogDiff } from '../../../src/catalog/index.js';
import { NS, prompt, resource, source, template, tool } from './snapshots.js';

const build = (...sources: Parameters<typeof buildCatalog>[0]) => buildCatalog(sources, { namespace: NS });

describe('catalogDiff', () => {
  const base = build(
    source('a', ['t1', 't2'], { snapshot: { prompts: [prompt('p')], resources: [resource('x://1')] } }),
  );

  it('reports nothing for an identical rebuild', () => {
    const same = build(
      source('a', ['t1', 't2'], { snapshot: { prompts: [prompt('p')], resources: [resource('x://1')] } }),
    );
    assert.deepEqual(catalogDiff(base, same), { tools: false, prompts: false, resources: false });
  });

  it('reports only the list that changed', () => {
    const moreTools = build(
      source('a', ['t1', 't2', 't3'], {
        snapshot: { prompts: [prompt('p')], resources: [resource('x://1')] },
      }),
    );
    assert.deepEqual(catalogDiff(base, moreTools), { tools: true, prompts: false, resources: false });

    const newPrompt = build(
      source('a', ['t1', 't2'], {
        snapshot: { prompts: [prompt('p'), prompt('q')], resources: [resource('x://1')] },
      }),
    );
    assert.deepEqual(catalogDiff(base, newPrompt), { tools: false, prompts: true, resources: false });

    const newTemplate = build(
      source('a', ['t1', 't2'], {
        snapshot: {
          prompts: [prompt('p')],
          resources: [resource('x://1')],
          resourceTemplates: [template('x://{id}')],
        },
      }),
    );
    assert.deepEqual(catalogDiff(base, newTemplate), { tools: false, prompts: false, resources: true });
  });

  it('notices a changed description or schema, not just names', () => {
    const changed = build(
      source('a', [], {
        snapshot: {
          tools: [tool('t1', { description: 'new words' }), tool('t2')],
          prompts: [prompt('p')],
          resources: [resource('x://1')],
        },
      }),
    );
    assert.equal(catalogDiff(base, changed).tools, true);
  });

  it('against no previous catalog, reports the lists that are not empty', () => {
    assert.deepEqual(catalogDiff(undefined, base), { tools: true, prompts: true, resources: true });
    assert.deepEqual(catalogDiff(undefined, build(source('a', ['t']))), {
      tools: true,
      prompts: false,
      resources: false,
    });
  });
});
