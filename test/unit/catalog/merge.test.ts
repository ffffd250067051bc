import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tool } from '@modelcontextprotocol/server';
import { buildCatalog, catalogSource, namespaceOptions, type Catalog } from '../../../src/catalog/index.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';
import { NS, prompt, source, tool } from './snapshots.js';

const names = (catalog: Catalog) => catalog.tools.map((t) => t.name);

describe('buildCatalog: plain servers', () => {
  const catalog = buildCatalog(
    [
      source('memory', ['create_entities', 'read_graph']),
      source('docs', ['search'], { snapshot: { prompts: [prompt('summarize')] } }),
    ],
    { namespace: NS },
  );

  it('exposes every tool under <server>__<name>, in config order', () => {
    assert.deepEqual(names(catalog), ['memory__create_entities', 'memory__read_graph', 'docs__search']);
    assert.deepEqual(catalog.clashes, []);
  });

  it('routes each exposed name back to its server and original name', () => {
    assert.deepEqual(catalog.resolveTool('memory__read_graph'), {
      exposedName: 'memory__read_graph',
      originalName: 'read_graph',
      members: ['memory'],
    });
    assert.equal(catalog.resolveTool('docs__search')?.members[0], 'docs');
    assert.equal(catalog.resolveTool('search'), undefined);
    assert.equal(catalog.resolveTool('memory__nope'), undefined);
  });

  it('keeps schema, annotations and title untouched', () => {
    const inputSchema = { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] };
    const outputSchema = { type: 'object' as const, properties: { hits: { type: 'number' } } };
    const original = tool('find', {
      title: 'Find',
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: true },
    });
    const c = buildCatalog(
      [{ ...source('s', []), snapshot: { ...source('s', []).snapshot, tools: [original] } }],
      {
        namespace: NS,
      },
    );
    const [exposed] = c.tools;
    assert.ok(exposed);
    assert.equal(exposed.inputSchema, inputSchema);
    assert.equal(exposed.outputSchema, outputSchema);
    assert.deepEqual(exposed.annotations, { readOnlyHint: true });
    assert.equal(exposed.title, 'Find');
    assert.equal(original.name, 'find', 'the downstream object is not mutated');
  });

  it('exposes prompts the same way', () => {
    assert.deepEqual(
      catalog.prompts.map((p) => p.name),
      ['docs__summarize'],
    );
    assert.deepEqual(catalog.resolvePrompt('docs__summarize'), {
      exposedName: 'docs__summarize',
      originalName: 'summarize',
      members: ['docs'],
    });
  });

  it('lists the contributing servers and their counts', () => {
    assert.deepEqual(catalog.servers(), ['memory', 'docs']);
    assert.deepEqual(catalog.counts('memory'), { tools: 2, prompts: 0, resources: 0, resourceTemplates: 0 });
    assert.deepEqual(catalog.counts('docs'), { tools: 1, prompts: 1, resources: 0, resourceTemplates: 0 });
    assert.equal(catalog.counts('ghost'), undefined);
  });

  it('is immutable', () => {
    assert.ok(Object.isFrozen(catalog));
    assert.ok(Object.isFrozen(catalog.tools));
    assert.ok(Object.isFrozen(catalog.tools[0]));
    assert.throws(() => (catalog.tools as Tool[]).push(tool('x')), TypeError);
  });

  it('honours an explicit prefix, including "" for bare names', () => {
    const c = buildCatalog([source('a', ['x'], { prefix: 'alpha' }), source('b', ['y'], { prefix: '' })], {
      namespace: NS,
    });
    assert.deepEqual(names(c), ['alpha__x', 'y']);
    assert.equal(c.resolveTool('y')?.members[0], 'b');
  });

  it('rejects a duplicated server id and bad options', () => {
    assert.throws(
      () => buildCatalog([source('a', []), source('a', [])], { namespace: NS }),
      InvalidArgumentError,
    );
    assert.throws(
      () => buildCatalog([], { namespace: { separator: '__', maxLength: 4 } }),
      InvalidArgumentError,
    );
    assert.throws(() => buildCatalog([], { namespace: NS, pageSize: 0 }), InvalidArgumentError);
  });
});

describe('buildCatalog: _meta and descriptions', () => {
  it('gives every exposed tool and prompt a description and the coordinator _meta', () => {
    const catalog = buildCatalog(
      [
        source('a', [], {
          snapshot: {
            tools: [
              tool('described'),
              { name: 'bare', inputSchema: { type: 'object' } },
              tool('blank', { description: '  ' }),
              tool('meta', { _meta: { 'vendor/x': 1 } }),
            ],
            prompts: [{ name: 'p1' }, prompt('p2')],
          },
        }),
        source('r1', ['t'], { group: 'g' }),
        source('r2', ['t'], { group: 'g' }),
      ],
      {
        namespace: NS,
        builtins: { serverId: 'coordinator', tools: [{ name: 'health', inputSchema: { type: 'object' } }] },
      },
    );
    for (const item of [...catalog.tools, ...catalog.prompts]) {
      assert.ok(item.description && item.description.trim().length > 0, `${item.name} has a description`);
      assert.equal(
        typeof item._meta?.['coordinator/server'],
        'string',
        `${item.name} has coordinator/server`,
      );
      assert.equal(
        typeof item._meta?.['coordinator/originalName'],
        'string',
        `${item.name} has originalName`,
      );
    }
    const byName = new Map(catalog.tools.map((t) => [t.name, t]));
    assert.equal(byName.get('a__described')?.description, 'does described');
    assert.equal(byName.get('a__bare')?.description, 'bare (from a)');
    assert.equal(byName.get('a__blank')?.description, 'blank (from a)');
    assert.deepEqual(byName.get('a__meta')?._meta, {
      'vendor/x': 1,
      'coordinator/server': 'a',
      'coordinator/originalName': 'meta',
    });
    assert.deepEqual(byName.get('g__t')?._meta, {
      'coordinator/server': 'g',
      'coordinator/originalName': 't',
      'coordinator/members': ['r1', 'r2'],
    });
    assert.equal(byName.get('coordinator__health')?.description, 'health (from coordinator)');
    assert.equal(catalog.prompts.find((p) => p.name === 'a__p1')?.description, 'p1 (from a)');
  });
});

describe('buildCatalog: groups of replicas', () => {
  const catalog = buildCatalog(
    [
      source('odoo-prod', ['search_read', 'write', 'prod_only'], {
        group: 'odoo',
        snapshot: { prompts: [prompt('q')] },
      }),
      source('memory', ['read_graph']),
      source('odoo-lab', ['search_read', 'write', 'lab_only'], {
        group: 'odoo',
        snapshot: { prompts: [prompt('q')] },
      }),
    ],
    { namespace: NS },
  );

  it('exposes a shared tool once, as <group>__<name>, at the first member position', () => {
    assert.deepEqual(names(catalog), [
      'odoo__search_read',
      'odoo__write',
      'odoo__prod_only',
      'odoo__lab_only',
      'memory__read_graph',
    ]);
    assert.deepEqual(catalog.clashes, []);
  });

  it('routes a shared tool to every member, a partial one only to those that have it', () => {
    assert.deepEqual(catalog.resolveTool('odoo__search_read'), {
      exposedName: 'odoo__search_read',
      originalName: 'search_read',
      members: ['odoo-prod', 'odoo-lab'],
      group: 'odoo',
    });
    assert.deepEqual(catalog.resolveTool('odoo__prod_only')?.members, ['odoo-prod']);
    assert.deepEqual(catalog.resolveTool('odoo__lab_only')?.members, ['odoo-lab']);
    const labOnly = catalog.tools.find((t) => t.name === 'odoo__lab_only');
    assert.deepEqual(labOnly?._meta?.['coordinator/members'], ['odoo-lab']);
  });

  it('merges prompts of a group the same way', () => {
    assert.deepEqual(catalog.resolvePrompt('odoo__q'), {
      exposedName: 'odoo__q',
      originalName: 'q',
      members: ['odoo-prod', 'odoo-lab'],
      group: 'odoo',
    });
  });

  it('counts a group tool for each member that has it', () => {
    assert.equal(catalog.counts('odoo-prod')?.tools, 3);
    assert.equal(catalog.counts('odoo-lab')?.tools, 3);
  });

  it('uses a member explicit prefix for the group, and warns when members disagree', () => {
    const c = buildCatalog(
      [
        source('r1', ['t'], { group: 'g' }),
        source('r2', ['t'], { group: 'g', prefix: 'erp' }),
        source('r3', ['t'], { group: 'g', prefix: 'other' }),
      ],
      { namespace: NS },
    );
    assert.deepEqual(names(c), ['erp__t']);
    assert.deepEqual(c.resolveTool('erp__t')?.members, ['r1', 'r2', 'r3']);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0] ?? '', /r3.*"other".*group "g".*"erp"/);
  });
});

describe('buildCatalog: clashes', () => {
  it('keeps the name for the first server and disambiguates the later one, reporting it', () => {
    const catalog = buildCatalog(
      [source('a', ['search', 'only_a'], { prefix: '' }), source('b', ['search', 'only_b'], { prefix: '' })],
      { namespace: NS },
    );
    assert.deepEqual(names(catalog), ['search', 'only_a', 'b__search', 'only_b']);
    assert.deepEqual(catalog.resolveTool('search')?.members, ['a']);
    assert.deepEqual(catalog.resolveTool('b__search'), {
      exposedName: 'b__search',
      originalName: 'search',
      members: ['b'],
    });
    assert.equal(catalog.clashes.length, 1);
    const [sentence] = catalog.clashes;
    assert.match(sentence ?? '', /server "a"/);
    assert.match(sentence ?? '', /server "b"/);
    assert.match(sentence ?? '', /"search"/);
    assert.match(sentence ?? '', /"b__search"/);
  });

  it('hashes the fallback when <serverId>__<name> is taken too, and never steals a later natural name', () => {
    // a exposes "x" bare, b exposes "x" bare (clash) and c already owns "b__x" naturally.
    const catalog = buildCatalog(
      [
        source('a', ['x'], { prefix: '' }),
        source('b', ['x'], { prefix: '' }),
        source('c', ['b__x'], { prefix: '' }),
      ],
      { namespace: NS },
    );
    const exposed = names(catalog);
    assert.equal(new Set(exposed).size, exposed.length);
    assert.equal(catalog.resolveTool('b__x')?.members[0], 'c');
    const bName = exposed[1] ?? '';
    assert.match(bName, /^b__x-[0-9a-f]{8}$/);
    assert.deepEqual(catalog.resolveTool(bName)?.members, ['b']);
    assert.equal(catalog.clashes.length, 1);
  });

  it('reports a clash between a group and a server', () => {
    const catalog = buildCatalog(
      [source('odoo', ['ping'], { prefix: 'x' }), source('r1', ['ping'], { group: 'g', prefix: 'x' })],
      { namespace: NS },
    );
    assert.deepEqual(names(catalog), ['x__ping', 'g__ping']);
    assert.equal(catalog.resolveTool('g__ping')?.group, 'g');
    assert.match(catalog.clashes[0] ?? '', /server "odoo".*group "g"|group "g".*server "odoo"/);
  });

  it('disambiguates names of one server that sanitize to the same string', () => {
    const catalog = buildCatalog([source('s', ['a.b', 'a/b'])], { namespace: NS });
    const exposed = names(catalog);
    assert.equal(exposed[0], 's__a_b');
    assert.match(exposed[1] ?? '', /^s__a_b-[0-9a-f]{8}$/);
    assert.equal(catalog.resolveTool(exposed[1] ?? '')?.originalName, 'a/b');
    assert.equal(catalog.clashes.length, 1);
  });

  it('ignores a tool listed twice by one server, with a warning', () => {
    const catalog = buildCatalog([source('s', ['t', 't'])], { namespace: NS });
    assert.deepEqual(names(catalog), ['s__t']);
    assert.match(catalog.warnings[0] ?? '', /"s".*"t" twice/);
  });

  it('reports prompt clashes as prompt clashes', () => {
    const catalog = buildCatalog(
      [
        source('a', [], { prefix: '', snapshot: { prompts: [prompt('p')] } }),
        source('b', [], { prefix: '', snapshot: { prompts: [prompt('p')] } }),
      ],
      { namespace: NS },
    );
    assert.deepEqual(
      catalog.prompts.map((p) => p.name),
      ['p', 'b__p'],
    );
    assert.match(catalog.clashes[0] ?? '', /^Prompt "p"/);
  });
});

describe('buildCatalog: filters', () => {
  const tools = ['read_file', 'read_dir', 'write_file', 'delete_file', 'stat'];

  it('includes by wildcard pattern on the original name', () => {
    const c = buildCatalog([source('fs', tools, { filter: { include: ['read_*', 'stat'] } })], {
      namespace: NS,
    });
    assert.deepEqual(names(c), ['fs__read_file', 'fs__read_dir', 'fs__stat']);
  });

  it('excludes by wildcard pattern, and exclude wins over include', () => {
    const c = buildCatalog(
      [source('fs', tools, { filter: { include: ['*_file'], exclude: ['delete_*', 'write*'] } })],
      {
        namespace: NS,
      },
    );
    assert.deepEqual(names(c), ['fs__read_file']);
    const d = buildCatalog([source('fs', tools, { filter: { exclude: ['*'] } })], { namespace: NS });
    assert.deepEqual(names(d), []);
  });

  it('treats regex characters in patterns literally and an empty include as nothing', () => {
    const c = buildCatalog([source('s', ['a.b', 'axb'], { filter: { include: ['a.b'] } })], {
      namespace: NS,
    });
    assert.deepEqual(names(c), ['s__a_b']);
    const none = buildCatalog([source('s', ['a'], { filter: { include: [] } })], { namespace: NS });
    assert.deepEqual(names(none), []);
  });

  it('filters each group member by its own filter', () => {
    const c = buildCatalog(
      [
        source('r1', ['t', 'danger'], { group: 'g' }),
        source('r2', ['t', 'danger'], { group: 'g', filter: { exclude: ['danger'] } }),
      ],
      { namespace: NS },
    );
    assert.deepEqual(c.resolveTool('g__danger')?.members, ['r1']);
    assert.deepEqual(c.resolveTool('g__t')?.members, ['r1', 'r2']);
  });
});

describe('buildCatalog: built-in coordinator tools', () => {
  const builtins = { serverId: 'coordinator', tools: [tool('route'), tool('health')] };

  it('exposes them first as coordinator__<name> and routes them as built-ins', () => {
    const c = buildCatalog([source('memory', ['read_graph'])], { namespace: NS, builtins });
    assert.deepEqual(names(c), ['coordinator__route', 'coordinator__health', 'memory__read_graph']);
    assert.deepEqual(c.resolveTool('coordinator__route'), {
      exposedName: 'coordinator__route',
      originalName: 'route',
      members: ['coordinator'],
      builtin: true,
    });
    assert.equal(c.resolveTool('memory__read_graph')?.builtin, undefined);
    assert.deepEqual(c.servers(), ['memory']);
  });

  it('wins a clash against a downstream tool', () => {
    const c = buildCatalog([source('x', ['coordinator__health'], { prefix: '' })], {
      namespace: NS,
      builtins,
    });
    assert.equal(c.resolveTool('coordinator__health')?.builtin, true);
    assert.equal(c.resolveTool('x__coordinator__health')?.members[0], 'x');
    assert.equal(c.clashes.length, 1);
  });
});

describe('buildCatalog: toolsByOriginalName', () => {
  it('finds every exposed tool with a given downstream name', () => {
    const c = buildCatalog([source('a', ['search']), source('b', ['search']), source('c', ['other'])], {
      namespace: NS,
    });
    assert.deepEqual(
      c.toolsByOriginalName('search').map((m) => [m.exposedName, m.members]),
      [
        ['a__search', ['a']],
        ['b__search', ['b']],
      ],
    );
    assert.deepEqual(c.toolsByOriginalName('missing'), []);
  });
});

describe('catalogSource / namespaceOptions', () => {
  it('maps config keys to catalog inputs', () => {
    const snap = source('s', []).snapshot;
    const server = {
      command: 'node',
      args: [],
      env: {},
      enabled: true,
      timeoutMs: 1000,
      connectTimeoutMs: 30_000,
      protocol: 'auto' as const,
      startup: 'eager' as const,
      prefix: '',
      group: 'g',
      tools: { include: ['a*'] },
    };
    assert.deepEqual(catalogSource('s', server, snap), {
      serverId: 's',
      snapshot: snap,
      prefix: '',
      group: 'g',
      filter: { include: ['a*'] },
    });
    assert.deepEqual(namespaceOptions({ separator: '__', maxNameLength: 60 }), {
      separator: '__',
      maxLength: 60,
    });
  });
});
