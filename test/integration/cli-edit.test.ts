/**
 * `init`, `servers`, `add`, `remove`, `enable`, `disable` through the built CLI: servers.yml is
 * edited in place (comments and layout kept), validated before it is written, and nothing is
 * started for any of them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MAIN, tempDir } from '../helpers/coordinator.js';

const dir = tempDir();

function cli(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, cwd: dir.path });
}

const ORIGINAL = `# Our team's servers.
servers:
  # notes: the memory server
  notes:
    command: node
    args: [notes.js] # kept on one line

  # the wiki, remote
  wiki: { url: 'http://127.0.0.1:4100/mcp' }

routing:
  default: notes # fallback
`;

describe('command line: editing servers.yml', () => {
  after(() => dir.remove());

  test('init writes a commented starter file that check accepts, and refuses to overwrite without --force', () => {
    const file = join(dir.path, 'starter.yml');
    const first = cli('init', '--config', file);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /wrote .*starter\.yml/);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# /m);
    assert.match(text, /command: npx/);
    assert.match(text, /@modelcontextprotocol\/server-memory/);
    assert.match(text, /first run/);

    const check = cli('check', '--config', file);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /ok \(1 server: memory\)/);

    writeFileSync(file, '# mine\nservers: {}\n');
    const again = cli('init', '--config', file);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists; pass --force/);
    assert.equal(readFileSync(file, 'utf8'), '# mine\nservers: {}\n');

    const forced = cli('init', '--force', '--config', file);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('add, disable, enable, remove keep comments and layout; servers lists the result', () => {
    const file = join(dir.path, 'servers.yml');
    writeFileSync(file, ORIGINAL);

    const added = cli('add', 'brave_search', '--config', file, '--', 'npx', '-y', '@acme/brave', '--verbose');
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added brave_search/);
    const addedUrl = cli('add', 'docs', '--url', 'https://docs.example/mcp', '--config', file);
    assert.equal(addedUrl.status, 0, addedUrl.stderr);

    assert.equal(cli('disable', 'wiki', '--config', file).status, 0);
    assert.equal(cli('disable', 'notes', '--config', file).status, 0);
    assert.equal(cli('enable', 'notes', '--config', file).status, 0);

    // The yaml library writes every flow collection with inner padding (`[a]` → `[ a ]`).
    const text = readFileSync(file, 'utf8').replace(/\[ (.*?) \]/g, '[$1]');
    for (const kept of [
      "# Our team's servers.",
      '  # notes: the memory server',
      '    args: [notes.js] # kept on one line',
      '  # the wiki, remote',
      '  default: notes # fallback',
    ]) {
      assert.ok(text.includes(kept), `kept: ${kept}\n${text}`);
    }
    assert.match(text, /brave_search:\n\s+command: npx\n\s+args: \[-y, "?@acme\/brave"?, --verbose\]/);
    assert.match(text, /wiki: \{ url: "?'?http:\/\/127\.0\.0\.1:4100\/mcp'?"?, enabled: false \}/);
    assert.doesNotMatch(text.slice(text.indexOf('notes:'), text.indexOf('wiki')), /enabled/);

    const servers = cli('servers', '--json', '--config', file);
    assert.equal(servers.status, 0, servers.stderr);
    const rows = JSON.parse(servers.stdout) as Array<{ id: string; transport: string; enabled: boolean }>;
    assert.deepEqual(
      rows.map((r) => [r.id, r.transport, r.enabled]),
      [
        ['notes', 'stdio', true],
        ['wiki', 'streamable-http', false],
        ['brave_search', 'stdio', true],
        ['docs', 'streamable-http', true],
      ],
    );

    const removed = cli('remove', 'docs', '--config', file);
    assert.equal(removed.status, 0, removed.stderr);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /docs/);
    assert.ok(!existsSync(join(dir.path, '.coordinator-cache')), 'nothing was started');
  });

  test('an edit that would make the file invalid is refused and nothing is written', () => {
    const file = join(dir.path, 'refuse.yml');
    writeFileSync(file, ORIGINAL);
    // notes is routing.default: removing it would leave a dangling target.
    const r = cli('remove', 'notes', '--config', file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /refuse\.yml:\d+: routing\.default: unknown target "notes"/);
    assert.equal(readFileSync(file, 'utf8'), ORIGINAL);

    const dup = cli('add', 'wiki', '--url', 'http://x/mcp', '--config', file);
    assert.equal(dup.status, 2);
    assert.match(dup.stderr, /already configured/);
    const badUrl = cli('add', 'bad', '--url', 'ftp://x', '--config', file);
    assert.equal(badUrl.status, 2);
    assert.match(badUrl.stderr, /servers\.bad\.url: must be an http/);
    const typo = cli('disable', 'wikki', '--config', file);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /no server "wikki" in servers \(did you mean "wiki"\?\)/);
    const badId = cli('add', 'my server', '--config', file, '--', 'node', 'x.js');
    assert.equal(badId.status, 2);
    assert.match(badId.stderr, /must match \[A-Za-z0-9_.-\]\+/);
    assert.equal(readFileSync(file, 'utf8'), ORIGINAL);
  });

  test("another client's JSON file is edited in its own terms", () => {
    const file = join(dir.path, 'claude_desktop_config.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { fs: { command: 'npx', args: ['x'] } } }, null, 2));
    assert.equal(cli('disable', 'fs', '--config', file).status, 0);
    assert.equal(cli('add', 'web', '--url', 'https://w.example/mcp', '--config', file).status, 0);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { mcpServers: Record<string, unknown> };
    assert.deepEqual(data.mcpServers, {
      fs: { command: 'npx', args: ['x'], disabled: true },
      web: { url: 'https://w.example/mcp' },
    });
  });
});
