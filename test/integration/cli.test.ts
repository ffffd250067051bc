/**
 * The one-shot commands as a script uses them: stdout is the result (JSON where asked), logs go
 * to stderr, exit codes 0 / 1 / 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { MAIN, fixtureServer, tempDir, writeConfig } from '../helpers/coordinator.js';

describe('command line', () => {
  const dir = tempDir();
  let file: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, ...args, '--config', file], { encoding: 'utf8', timeout: 60_000 });

  before(() => {
    file = writeConfig(dir.path, {
      servers: {
        prod: { ...fixtureServer('prod'), group: 'g' },
        lab: { ...fixtureServer('lab'), group: 'g' },
        solo: fixtureServer('solo'),
      },
      routing: { rules: [{ when: { context: { lab: true } }, target: 'lab', reason: 'lab work' }] },
      cacheDir: '',
    });
  });
  after(() => dir.remove());

  test('tools --json is the merged catalog; the table names each tool and server', () => {
    const json = cli('tools', '--json');
    assert.equal(json.status, 0, json.stderr);
    const tools = JSON.parse(json.stdout) as Tool[];
    assert.ok(tools.some((t) => t.name === 'g__whoami' && t._meta?.['coordinator/server'] === 'g'));
    assert.ok(tools.some((t) => t.name === 'solo__echo'));
    const table = cli('tools');
    assert.equal(table.status, 0);
    assert.match(table.stdout.split('\n')[0]!, /^TOOL\s+SERVER\s+DESCRIPTION$/);
    assert.match(table.stdout, /^solo__echo\s+solo\s+Echo the text back$/m);
  });

  test('call routes by --target and --context and prints the result; isError exits 1', () => {
    const target = cli('call', 'g__whoami', '--target', 'lab');
    assert.equal(target.status, 0, target.stderr);
    const r = JSON.parse(target.stdout) as CallToolResult;
    assert.equal((r.structuredContent as { name: string }).name, 'lab');
    assert.equal((r._meta?.['coordinator/routing'] as { reason: string }).reason, 'explicit target lab');

    const ctx = JSON.parse(cli('call', 'g__whoami', '--context', '{"lab":true}').stdout) as CallToolResult;
    assert.equal((ctx._meta?.['coordinator/routing'] as { reason: string }).reason, 'lab work');

    const failed = cli('call', 'solo__fail', '--args', '{"message":"boom"}');
    assert.equal(failed.status, 1);
    assert.equal((JSON.parse(failed.stdout) as CallToolResult).isError, true);
  });

  test('aggregate prints results keyed by server; --targets narrows it', () => {
    const all = cli('aggregate', 'whoami');
    assert.equal(all.status, 0, all.stderr);
    const out = JSON.parse(all.stdout) as {
      results: Record<string, unknown>;
      aggregation: { targets: string[] };
    };
    assert.deepEqual(Object.keys(out.results).sort(), ['lab', 'prod', 'solo']);
    const some = JSON.parse(
      cli('aggregate', 'echo', '--args', '{"text":"hi"}', '--targets', 'prod,solo').stdout,
    );
    assert.deepEqual(some.aggregation.targets, ['prod', 'solo']);
  });

  test('aggregate shows progress on stderr only when stderr is a terminal', () => {
    const piped = cli('aggregate', 'sleep', '--args', '{"ms":300}');
    assert.equal(piped.status, 0);
    assert.doesNotMatch(piped.stderr, /aggregate sleep \d/);
    // `script` gives the command a terminal; its output is what that terminal showed.
    const command = `'${process.execPath}' '${MAIN}' aggregate sleep --args '{"ms":300}' --config '${file}'`;
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(tty.status, 0, tty.stderr);
    assert.match(tty.stdout, /aggregate sleep \d+\.\ds/);
    const json = tty.stdout.slice(tty.stdout.indexOf('{'));
    assert.deepEqual(Object.keys(JSON.parse(json.replace(/\r/g, '')).results).sort(), [
      'lab',
      'prod',
      'solo',
    ]);
  });

  test('health --json has the contract shape', () => {
    const h = cli('health', '--json');
    assert.equal(h.status, 0, h.stderr);
    const report = JSON.parse(h.stdout) as {
      overall: string;
      servers: Record<string, { status: string; transport: string; tools: number }>;
      dependencies: { redis: string };
    };
    assert.equal(report.overall, 'healthy');
    assert.equal(report.servers.solo?.transport, 'stdio');
    assert.ok((report.servers.solo?.tools ?? 0) >= 8);
    assert.equal(report.dependencies.redis, 'disabled');
  });

  test('bad usage exits 2 with nothing on stdout', () => {
    for (const args of [
      ['call', 'solo__echo', '--args', '{not json'],
      ['frobnicate'],
      ['tools', '--bogus'],
    ]) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /mcp-coordinator: /);
    }
  });
});
