/**
 * Issue 10, items 1 and 2: the package as a user gets it. `npm pack`, install the tarball into a
 * temporary prefix, and from an unrelated folder run the installed `mcp-coordinator`: --version,
 * init, check, and a call of the starter config's memory server (through npx).
 *
 * Needs the npm registry: `npm ci` leaves only tarballs in npm's cache, not the package documents
 * an install of a tarball resolves its dependency ranges with, so `--offline` cannot work;
 * `--prefer-offline` takes every tarball from the cache and asks the registry only for those
 * documents. The starter's `npx -y @modelcontextprotocol/server-memory` downloads once as well.
 *
 * The pack runs with --ignore-scripts: `npm test` has just built dist/, and a second build would
 * double this test's time; that `prepare` builds is asserted on package.json, and
 * `npm install -g .` / a git URL run that same script. The git URL is tested for real: a global
 * install from `git+file://` of this repository's HEAD (the committed tree, not the work tree),
 * through scripts/prepare.mjs and its way around npm/cli#8440.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURE, ROOT, tempDir } from '../helpers/coordinator.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the packed package, installed', () => {
  const tmp = tempDir('mcp-pack-');
  after(() => tmp.remove());

  test('pack, install -g into a prefix, then --version, init, check and a call from another folder', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    assert.equal(
      pkg.scripts['prepare'],
      'node scripts/prepare.mjs',
      'git URLs and npm install -g . build through prepare',
    );
    assert.equal(pkg.bin['mcp-coordinator'], 'dist/main.js');

    const packed = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.path], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const [info] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes('dist/main.js'));
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests');

    const prefix = join(tmp.path, 'prefix');
    execFileSync(
      NPM,
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(tmp.path, info!.filename),
      ],
      { cwd: tmp.path, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const bin = join(prefix, process.platform === 'win32' ? '' : 'bin');
    assert.ok(existsSync(join(bin, 'mcp-coordinator')));

    const elsewhere = join(tmp.path, 'some', 'project');
    mkdirSync(elsewhere, { recursive: true });
    const run = (...args: string[]) =>
      spawnSync('mcp-coordinator', args, {
        cwd: elsewhere,
        encoding: 'utf8',
        timeout: 90_000,
        env: {
          ...process.env,
          PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
          npm_config_prefer_offline: 'true',
        },
      });

    const version = run('--version');
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);

    const init = run('init');
    assert.equal(init.status, 0, init.stderr);
    assert.ok(existsSync(join(elsewhere, 'servers.yml')));

    const check = run('check');
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /servers\.yml: ok \(1 server: memory\)/);
    assert.doesNotMatch(check.stderr, /warning/, 'npx is found: no warning');

    // The starter's memory server comes through npx. On a machine whose npm cache lacks it (a
    // fresh one), its first start downloads it, which can outlast a server's 30 s start-up budget
    // beside another test run: fetched here first (it exits at once on a closed stdin), untimed.
    spawnSync('npx', ['-y', '@modelcontextprotocol/server-memory'], {
      cwd: elsewhere,
      stdio: ['ignore', 'ignore', 'ignore'],
      timeout: 180_000,
      env: { ...process.env, npm_config_prefer_offline: 'true' },
    });
    const call = run('call', 'memory__read_graph');
    assert.equal(call.status, 0, call.stderr);
    const result = JSON.parse(call.stdout) as CallToolResult;
    assert.deepEqual(result.structuredContent, { entities: [], relations: [] });
  });

  test('npm install -g git+<url>: built by prepare, a real folder with its dependencies, and it runs', () => {
    const prefix = join(tmp.path, 'git-prefix');
    const installed = spawnSync(
      NPM,
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', `git+file://${ROOT}`],
      {
        cwd: tmp.path,
        encoding: 'utf8',
        timeout: 400_000,
        env: { ...process.env, npm_config_prefer_offline: 'true' },
      },
    );
    assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
    const modules = join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules');
    const folder = join(modules, 'mcp-coordinator');
    // Without the workaround npm leaves a link to its deleted temporary clone here.
    assert.equal(lstatSync(folder).isSymbolicLink(), false, 'a folder of its own, not a link');
    assert.ok(existsSync(join(folder, 'dist', 'main.js')), 'built by prepare');
    assert.ok(existsSync(join(folder, 'node_modules', '@modelcontextprotocol', 'server')), 'dependencies');
    assert.deepEqual(
      readdirSync(modules).filter((entry) => entry.startsWith('.')),
      [],
      'nothing left aside',
    );

    const bin = join(prefix, process.platform === 'win32' ? '' : 'bin');
    const elsewhere = join(tmp.path, 'git', 'project');
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(
      join(elsewhere, 'servers.yml'),
      `servers:\n  fx: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(FIXTURE)}, --name, fx] }\n`,
    );
    const run = (...args: string[]) =>
      spawnSync('mcp-coordinator', args, {
        cwd: elsewhere,
        encoding: 'utf8',
        timeout: 90_000,
        env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
      });
    const version = run('--version');
    assert.equal(version.status, 0, version.stderr);
    const call = run('call', 'fx__echo', '--args', '{"text":"from git"}');
    assert.equal(call.status, 0, call.stderr);
    assert.deepEqual((JSON.parse(call.stdout) as CallToolResult).content, [
      { type: 'text', text: 'from git' },
    ]);
  });
});
