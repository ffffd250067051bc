/**
 * The command line a newcomer meets first (issue 10, item 5), driven through the built
 * dist/main.js: version and help on stdout, usage errors before anything is spawned, `call` and
 * `tools SERVER` start only the servers they need, `--args @FILE` / `-`, "did you mean", `events`
 * without Redis, one-shot commands that stay out of a team's shared stream, tables that fit
 * $COLUMNS, and `check` warning about a server command that is not there.
 *
 * "Spawned" is observed, not timed: each server is wrapped in `sh -c` that appends its name to a
 * marker file before exec'ing the fixture, so a test reads which servers were started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURE, MAIN, ROOT, fixtureServer, tempDir, writeConfig } from '../helpers/coordinator.js';
import { startRedis } from '../helpers/redis-server.js';

const dir = tempDir();
const MARKER = join(dir.path, 'spawned.txt');

/** A fixture server that writes its name to MARKER when it is started. */
const markedServer = (name: string) => ({
  command: '/bin/sh',
  args: [
    '-c',
    'echo "$1" >> "$2"; exec "$3" "$4" --name "$1"',
    'sh',
    name,
    MARKER,
    process.execPath,
    FIXTURE,
  ],
});

const spawned = (): string[] =>
  existsSync(MARKER) ? readFileSync(MARKER, 'utf8').split('\n').filter(Boolean).sort() : [];

interface CliOptions {
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

function cli(args: string[], options: CliOptions = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    input: options.input ?? '',
    cwd: options.cwd ?? dir.path,
    env: { ...process.env, ...options.env },
  });
}

describe('command line: the first five minutes', () => {
  let file: string;
  const withConfig = (...args: string[]) => [...args, '--config', file];

  before(() => {
    file = writeConfig(dir.path, {
      servers: {
        alpha: markedServer('alpha'),
        beta: markedServer('beta'),
        gamma: { ...markedServer('gamma'), group: 'reps' },
        delta: { ...markedServer('delta'), group: 'reps' },
        off: { ...markedServer('off'), enabled: false },
      },
    });
  });
  after(() => dir.remove());

  test('--version prints the package version on stdout, exit 0', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  });

  test('--help, help and help COMMAND print usage on stdout, exit 0', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = cli(args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
      for (const command of ['serve', 'tools', 'call', 'servers', 'add', 'init', 'events', 'check']) {
        assert.match(r.stdout, new RegExp(`^  ${command}\\b`, 'm'), `${args.join(' ')} lists ${command}`);
      }
      assert.match(r.stdout, /Exit codes: 0 success, 1 .*, 2 bad usage or bad config/);
    }
    for (const args of [
      ['help', 'call'],
      ['call', '--help'],
    ]) {
      const r = cli(args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: mcp-coordinator call NAME \[--args JSON\|@FILE\|-\]/);
      assert.match(r.stdout, /--args - from stdin/);
    }
  });

  test('usage errors exit 2 with a hint, nothing on stdout, and no server spawned', () => {
    rmSync(MARKER, { force: true });
    const cases: Array<{ args: string[]; stderr: RegExp }> = [
      { args: ['frobnicate'], stderr: /unknown command "frobnicate"/ },
      { args: ['cal', 'alpha__echo'], stderr: /unknown command "cal" \(did you mean "call"\?\)/ },
      { args: ['help', 'tols'], stderr: /did you mean "tools"/ },
      { args: withConfig('tools', '--jsonn'), stderr: /unknown option --jsonn \(did you mean --json\?\)/ },
      { args: withConfig('tools', '--follow'), stderr: /tools does not take --follow/ },
      { args: withConfig('call'), stderr: /call needs NAME/ },
      { args: withConfig('call', 'alpha__echo', '--args', '{not json'), stderr: /--args is not valid JSON/ },
      { args: withConfig('call', 'alpha__echo', '--args', '[1]'), stderr: /--args must be a JSON object/ },
      {
        args: withConfig('call', 'alpha__echo', '--args', '@missing.json'),
        stderr: /cannot read .*missing\.json/,
      },
      {
        args: withConfig('call', 'alpa__echo'),
        stderr: /unknown tool "alpa__echo" \(did you mean "alpha__echo"\?\)/,
      },
      {
        args: withConfig('call', 'alpha__echo', '--target', 'bta'),
        stderr: /no server or group "bta" \(did you mean "beta"\?\)/,
      },
      { args: withConfig('tools', 'gama'), stderr: /no server or group "gama" \(did you mean "gamma"\?\)/ },
      {
        args: withConfig('aggregate', 'echo', '--targets', 'alpha,zeta'),
        stderr: /no server or group "zeta"/,
      },
      { args: withConfig('events', '--since', 'yesterday-ish'), stderr: /since must be/ },
      { args: withConfig('tools', 'off'), stderr: /tools: off is disabled \(mcp-coordinator enable off\)/ },
      { args: withConfig('call', 'off__echo', '--target', 'off'), stderr: /--target: off is disabled/ },
      { args: withConfig('call', 'off__echo'), stderr: /off__echo: server off is disabled/ },
      { args: withConfig('add', 'x'), stderr: /add needs --url URL or -- COMMAND/ },
    ];
    for (const { args, stderr } of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, stderr, args.join(' '));
    }
    assert.deepEqual(spawned(), [], 'a usage error starts no server');
  });

  test('call starts only the servers that can answer the name', () => {
    rmSync(MARKER, { force: true });
    const r = cli(withConfig('call', 'alpha__echo', '--args', '{"text":"hi"}'));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as CallToolResult).content, [{ type: 'text', text: 'hi' }]);
    assert.deepEqual(spawned(), ['alpha']);

    rmSync(MARKER, { force: true });
    const group = cli(withConfig('call', 'reps__whoami'));
    assert.equal(group.status, 0, group.stderr);
    assert.deepEqual(spawned(), ['delta', 'gamma'], 'a group name starts its members only');

    rmSync(MARKER, { force: true });
    const builtin = cli(withConfig('call', 'coordinator__list_locks'));
    assert.equal(builtin.status, 0, builtin.stderr);
    assert.deepEqual(spawned(), [], 'a coordination built-in needs no downstream');
  });

  test('an unknown tool on a known server exits 2 with the closest real name', () => {
    rmSync(MARKER, { force: true });
    const r = cli(withConfig('call', 'beta__ecoh'));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown tool "beta__ecoh" \(did you mean "beta__echo"\?\)/);
    assert.deepEqual(spawned(), ['beta']);
  });

  test('a call whose server cannot start exits 1 and says why, not "unknown tool"', () => {
    const broken = writeConfig(
      dir.path,
      { servers: { broken: { command: process.execPath, args: ['-e', 'process.exit(3)'] } } },
      'broken.yml',
    );
    const r = cli(['call', 'broken__anything', '--config', broken]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /broken__anything: not available, a server that could answer it did not start: broken \(/,
    );
  });

  test('--args @FILE and --args - (stdin)', () => {
    const argsFile = join(dir.path, 'args.json');
    writeFileSync(argsFile, '{ "text": "from a file" }');
    const fromFile = cli(withConfig('call', 'alpha__echo', '--args', '@args.json'));
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.deepEqual((JSON.parse(fromFile.stdout) as CallToolResult).content, [
      { type: 'text', text: 'from a file' },
    ]);
    const fromStdin = cli(withConfig('call', 'alpha__echo', '--args', '-'), {
      input: '{"text":"from stdin"}',
    });
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.deepEqual((JSON.parse(fromStdin.stdout) as CallToolResult).content, [
      { type: 'text', text: 'from stdin' },
    ]);
  });

  test('tools SERVER lists that server only (no built-ins) and starts nothing else', () => {
    rmSync(MARKER, { force: true });
    const r = cli(withConfig('tools', 'beta', '--json'));
    assert.equal(r.status, 0, r.stderr);
    const tools = JSON.parse(r.stdout) as Tool[];
    assert.ok(tools.length > 0);
    assert.ok(
      tools.every((t) => t._meta?.['coordinator/server'] === 'beta'),
      r.stdout,
    );
    assert.deepEqual(spawned(), ['beta']);
  });

  test('tables fit $COLUMNS', () => {
    const r = cli(withConfig('tools', 'alpha'), { env: { COLUMNS: '50' } });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.ok(lines.length > 3);
    for (const line of lines) assert.ok([...line].length <= 50, `${[...line].length}: ${line}`);
    assert.match(r.stdout, /…/);
    const servers = cli(withConfig('servers'), { env: { COLUMNS: '40' } });
    for (const line of servers.stdout.trimEnd().split('\n')) assert.ok([...line].length <= 40, line);
  });

  test('events without Redis says the embedded bus belongs to one process, exit 2', () => {
    const r = cli(withConfig('events'));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /coordination\.redis is empty/);
    assert.match(r.stderr, /embedded bus of each coordinator process/);
    assert.ok(r.stderr.includes(file), 'names the config file');
  });

  test('check warns about a server command that is not there, and still exits 0', () => {
    const odd = writeConfig(
      dir.path,
      {
        servers: {
          ghost: { command: 'no-such-mcp-server-command' },
          script: { command: 'node', args: ['node_modules/@acme/not-installed/dist/index.js'] },
          fine: fixtureServer('fine'),
        },
      },
      'odd.yml',
    );
    const r = cli(['check', '--config', odd]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /odd\.yml: ok \(3 servers: ghost, script, fine\)/);
    assert.match(
      r.stderr,
      /warning: servers\.ghost\.command: "no-such-mcp-server-command" is not found on PATH/,
    );
    assert.match(
      r.stderr,
      /warning: servers\.script\.args: .*not-installed.* does not exist .*MODULE_NOT_FOUND/,
    );
    assert.doesNotMatch(r.stderr, /servers\.fine/);
  });
});

describe('one-shot commands stay out of the shared stream', () => {
  const shared = tempDir();
  after(() => shared.remove());

  test('tools, health and call publish no server:registered; a lock they take is published', async () => {
    const redis = await startRedis();
    const inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await inspect.connect();
      const config = writeConfig(shared.path, {
        servers: { solo: fixtureServer('solo') },
        coordination: { redis: redis.url, prefix: 'oneshot:', workspaceRoot: shared.path },
      });
      for (const args of [
        ['tools'],
        ['health', '--json'],
        ['call', 'solo__echo', '--args', '{"text":"x"}'],
      ]) {
        const r = cli([...args, '--config', config], { cwd: shared.path });
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      const lock = cli(['call', 'coordinator__lock_file', '--args', '{"file":"a.txt"}', '--config', config], {
        cwd: shared.path,
      });
      assert.equal(lock.status, 0, lock.stderr);
      const entries = (await inspect.xrange('oneshot:events:stream', '-', '+')) as Array<[string, string[]]>;
      const types = entries.map(
        ([, fields]) => (JSON.parse(fields[fields.indexOf('event') + 1]!) as { type: string }).type,
      );
      assert.ok(types.includes('file:locked'), `the stream works: ${types.join(', ')}`);
      assert.deepEqual(
        types.filter((t) => t.startsWith('server:') || t.startsWith('tools:') || t.startsWith('health:')),
        [],
      );
      assert.equal(await inspect.hlen('oneshot:servers:registry'), 0, 'no registry entry either');
    } finally {
      inspect.disconnect();
      await redis.stop();
    }
  });
});

describe("another client's file through the command line", () => {
  const home = tempDir();
  after(() => home.remove());

  test('check loads a Claude Desktop file and prints the id normalisation on stderr', () => {
    const file = join(home.path, 'claude_desktop_config.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: { 'Brave Search': fixtureServer('brave'), memory_v2: fixtureServer('m') },
      }),
    );
    const r = cli(['check', '--config', file], { cwd: home.path });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok \(2 servers: Brave-Search, memory_v2\)/);
    assert.match(
      r.stderr,
      /warning: mcpServers\."Brave Search": server id "Brave Search" is used as "Brave-Search"/,
    );
  });
});
