import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog } from '../../../src/catalog/index.js';
import {
  changedResourceUris,
  COORDINATION_RESOURCE_TEMPLATES,
  isCoordinationUri,
  parseCoordinationUri,
} from '../../../src/coordination/resources.js';
import { NS, resource, source, template } from './snapshots.js';

describe('buildCatalog: resources', () => {
  const catalog = buildCatalog(
    [
      source('fs', [], {
        snapshot: {
          resources: [
            resource('file:///readme.md'),
            resource('mem://shared', { _meta: { 'vendor/x': true } }),
          ],
          resourceTemplates: [template('file:///{+path}'), template('cfg://{key}')],
        },
      }),
      source('memory', [], {
        snapshot: {
          resources: [resource('mem://graph'), resource('mem://shared')],
          resourceTemplates: [template('cfg://{key}'), template('mem://entity/{name}')],
        },
      }),
    ],
    { namespace: NS },
  );

  it('passes a URI only one server has through unchanged', () => {
    const uris = catalog.resources.map((r) => r.uri);
    assert.ok(uris.includes('file:///readme.md'));
    assert.ok(uris.includes('mem://graph'));
  });

  it('exposes a shared URI as <server-id>+<uri> for each server, in config order', () => {
    assert.deepEqual(
      catalog.resources.map((r) => r.uri),
      ['file:///readme.md', 'fs+mem://shared', 'mem://graph', 'memory+mem://shared'],
    );
  });

  it('adds coordinator/server (and the original URI) to resource _meta, keeping the rest', () => {
    const shared = catalog.resources.find((r) => r.uri === 'fs+mem://shared');
    assert.deepEqual(shared?._meta, {
      'vendor/x': true,
      'coordinator/server': 'fs',
      'coordinator/originalUri': 'mem://shared',
    });
    for (const r of [...catalog.resources, ...catalog.resourceTemplates]) {
      assert.equal(typeof r._meta?.['coordinator/server'], 'string');
    }
  });

  it('does the same for resource templates', () => {
    assert.deepEqual(
      catalog.resourceTemplates.map((t) => t.uriTemplate),
      ['file:///{+path}', 'fs+cfg://{key}', 'memory+cfg://{key}', 'mem://entity/{name}'],
    );
    assert.equal(catalog.resourceTemplates[1]?._meta?.['coordinator/server'], 'fs');
  });

  it('resolves exposed URIs by exact hit', () => {
    assert.deepEqual(catalog.resolveResource('file:///readme.md'), {
      serverId: 'fs',
      originalUri: 'file:///readme.md',
    });
    assert.deepEqual(catalog.resolveResource('memory+mem://shared'), {
      serverId: 'memory',
      originalUri: 'mem://shared',
    });
    assert.deepEqual(catalog.resolveResource('fs+mem://shared'), {
      serverId: 'fs',
      originalUri: 'mem://shared',
    });
  });

  it('resolves a shared URI asked for bare to its first owner', () => {
    assert.deepEqual(catalog.resolveResource('mem://shared'), {
      serverId: 'fs',
      originalUri: 'mem://shared',
    });
  });

  it('strips a known <server-id>+ prefix from an expanded shared template', () => {
    assert.deepEqual(catalog.resolveResource('memory+cfg://theme'), {
      serverId: 'memory',
      originalUri: 'cfg://theme',
    });
    assert.deepEqual(catalog.resolveResource('fs+cfg://theme'), {
      serverId: 'fs',
      originalUri: 'cfg://theme',
    });
  });

  it('matches unprefixed URIs against the templates, first owner in config order', () => {
    assert.deepEqual(catalog.resolveResource('file:///src/index.ts'), {
      serverId: 'fs',
      originalUri: 'file:///src/index.ts',
    });
    assert.deepEqual(catalog.resolveResource('mem://entity/alice'), {
      serverId: 'memory',
      originalUri: 'mem://entity/alice',
    });
    assert.deepEqual(catalog.resolveResource('cfg://theme'), { serverId: 'fs', originalUri: 'cfg://theme' });
  });

  it('returns undefined for an unknown URI or an unknown prefix', () => {
    assert.equal(catalog.resolveResource('https://example.com/x'), undefined);
    assert.equal(catalog.resolveResource('ghost+mem://graph'), undefined);
  });

  it('counts resources and templates per server', () => {
    assert.deepEqual(catalog.counts('fs'), { tools: 0, prompts: 0, resources: 2, resourceTemplates: 2 });
    assert.deepEqual(catalog.counts('memory'), { tools: 0, prompts: 0, resources: 2, resourceTemplates: 2 });
  });

  it('lists an unparseable template but warns and never matches it', () => {
    const c = buildCatalog(
      [source('s', [], { snapshot: { resourceTemplates: [template('bad://{oops')] } })],
      {
        namespace: NS,
      },
    );
    assert.deepEqual(
      c.resourceTemplates.map((t) => t.uriTemplate),
      ['bad://{oops'],
    );
    assert.match(c.warnings[0] ?? '', /"bad:\/\/\{oops" that cannot be parsed/);
    assert.equal(c.resolveResource('bad://x'), undefined);
  });

  it('reports, and does not list twice, a URI that collides with another server prefixed form', () => {
    const c = buildCatalog(
      [
        source('a', [], { snapshot: { resources: [resource('x://1')] } }),
        source('b', [], { snapshot: { resources: [resource('x://1')] } }),
        source('c', [], { snapshot: { resources: [resource('a+x://1')] } }),
      ],
      { namespace: NS },
    );
    assert.deepEqual(
      c.resources.map((r) => r.uri),
      ['a+x://1', 'b+x://1'],
    );
    assert.equal(c.clashes.length, 1);
    assert.match(c.clashes[0] ?? '', /server "c".*"a\+x:\/\/1".*server "a"/);
  });
});

describe('buildCatalog: the coordinator resources', () => {
  const catalog = buildCatalog(
    [
      source('tracker', [], {
        snapshot: {
          resources: [],
          resourceTemplates: [template('tasks://{id}/state'), template('jira://{key}')],
        },
      }),
    ],
    {
      namespace: NS,
      builtins: {
        serverId: 'coordinator',
        tools: [],
        resourceTemplates: COORDINATION_RESOURCE_TEMPLATES,
        ownsUri: isCoordinationUri,
      },
    },
  );

  it('lists the built-in templates first, tagged with the coordinator', () => {
    const uris = catalog.resourceTemplates.map((t) => t.uriTemplate);
    assert.deepEqual(
      uris.slice(0, 5),
      COORDINATION_RESOURCE_TEMPLATES.map((t) => t.uriTemplate),
    );
    assert.equal(catalog.resourceTemplates[0]?._meta?.['coordinator/server'], 'coordinator');
    assert.ok(uris.includes('jira://{key}'));
  });

  it('routes its schemes to the coordinator before any downstream template', () => {
    assert.deepEqual(catalog.resolveResource('tasks://t1/state'), {
      serverId: 'coordinator',
      originalUri: 'tasks://t1/state',
    });
    assert.equal(catalog.resolveResource('agents://a/status')?.serverId, 'coordinator');
    assert.equal(catalog.resolveResource('jira://X-1')?.serverId, 'tracker');
  });
});

describe('coordination resource URIs', () => {
  it('parses each kind, %-decoded', () => {
    assert.deepEqual(parseCoordinationUri('tasks://a%2Fb/logs'), { kind: 'task-logs', id: 'a/b' });
    assert.deepEqual(parseCoordinationUri('collaboration://t1'), { kind: 'collaboration', id: 't1' });
    assert.deepEqual(parseCoordinationUri('agents://x/status'), { kind: 'agent-status', id: 'x' });
    assert.equal(parseCoordinationUri('tasks://t1/other'), undefined);
    assert.equal(parseCoordinationUri('tasks://%E0/state'), undefined);
  });

  it('names what an event changes', () => {
    const event = (type: string, data: Record<string, unknown>) =>
      ({ id: '1', type, source: 's', agentId: 'a', data, timestamp: '' }) as never;
    assert.deepEqual(changedResourceUris(event('task:progress', { taskId: 't', agentId: 'a' })), [
      'tasks://t/state',
      'tasks://t/logs',
      'tasks://t/files',
      'collaboration://t',
    ]);
    assert.ok(
      changedResourceUris(event('task:claimed', { taskId: 't', agentId: 'a' })).includes('agents://a/status'),
    );
    assert.deepEqual(changedResourceUris(event('agent:status_changed', { agentId: 'a' })), [
      'agents://a/status',
    ]);
    assert.deepEqual(changedResourceUris(event('file:locked', { file: 'x' })), []);
  });
});
