import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { parseConfigText } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { diffServers, watchConfig, type WatchConfigOptions } from '../../../src/config/watch.js';
import { ConfigError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const ONE = 'servers:\n  one:\n    command: node\n    args: [one.js]\n';
const TWO = `${ONE}  two:\n    url: http://127.0.0.1:4100/mcp\n`;
const BROKEN = 'servers:\n  one:\n    command: node\n    argz: [one.js]\n';

type Seen = { config: Config } | { error: ConfigError };

/**
 * A watcher on a fresh servers.yml whose reports are awaited one at a time; `running` tells it
 * the initial text is what the app runs (as the app does).
 */
async function watched(initial: string, options: Partial<WatchConfigOptions> & { running?: boolean } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'config-watch-'));
  dirs.push(dir);
  const file = path.join(dir, 'servers.yml');
  await writeFile(file, initial);
  const { running, ...rest } = options;
  const current = running ? parseConfigText(initial, file, {}) : undefined;
  const seen: Seen[] = [];
  let wake: () => void = () => {};
  const watcher = watchConfig(file, {
    env: {},
    logger: silentLogger,
    debounceMs: 20,
    onChange: (config) => {
      seen.push({ config });
      wake();
    },
    onError: (error) => {
      seen.push({ error });
      wake();
    },
    current,
    ...rest,
  });
  let read = 0;
  const next = async (): Promise<Seen> => {
    const deadline = Date.now() + 5_000;
    while (seen.length <= read) {
      if (Date.now() > deadline) throw new Error('no reload reported within 5 s');
      await new Promise<void>((resolve) => {
        wake = resolve;
        // Not unref'd: the watcher itself never keeps the process alive (by design).
        setTimeout(resolve, 100);
      });
    }
    return seen[read++]!;
  };
  return { dir, file, seen, next, watcher };
}

function configOf(seen: Seen): Config {
  assert.ok('config' in seen, `expected a config, got ${'error' in seen ? seen.error.message : ''}`);
  return seen.config;
}

describe('watchConfig', () => {
  it('reloads when the file is written in place', async () => {
    const { file, next, watcher } = await watched(ONE);
    try {
      await writeFile(file, TWO);
      const config = configOf(await next());
      assert.deepEqual(Object.keys(config.servers), ['one', 'two']);
    } finally {
      watcher.close();
    }
  });

  it('reloads when an editor replaces the file by rename', async () => {
    const { dir, file, next, watcher } = await watched(ONE);
    try {
      const tmp = path.join(dir, '.servers.yml.swp');
      await writeFile(tmp, TWO);
      await rename(tmp, file);
      assert.deepEqual(Object.keys(configOf(await next()).servers), ['one', 'two']);
    } finally {
      watcher.close();
    }
  });

  it('reports an invalid edit with file, line and key, then the fix', async () => {
    const { file, next, watcher } = await watched(ONE, { running: true });
    try {
      await writeFile(file, BROKEN);
      const bad = await next();
      assert.ok('error' in bad && bad.error instanceof ConfigError);
      assert.equal(bad.error.file, file);
      assert.equal(bad.error.line, 4);
      assert.match(bad.error.message, /argz/);
      // The fix restores what is running; it is still reported so the app can clear the error.
      await writeFile(file, ONE);
      assert.deepEqual(Object.keys(configOf(await next()).servers), ['one']);
    } finally {
      watcher.close();
    }
  });

  it('does not report a save that changes nothing', async () => {
    const { file, next, seen, watcher } = await watched(TWO, { running: true });
    try {
      await writeFile(file, `# a comment\n${TWO}`);
      // Past the debounce, so the comment-only save is a reload of its own.
      await delay(100);
      await writeFile(file, TWO.replace('one.js', 'uno.js'));
      const config = configOf(await next());
      assert.deepEqual((config.servers['one'] as { args: string[] }).args, ['uno.js']);
      assert.equal(seen.length, 1, 'the comment-only save was not reported');
    } finally {
      watcher.close();
    }
  });

  it('ignores other files in the folder and stops on close()', async () => {
    const { dir, file, seen, watcher } = await watched(ONE);
    await writeFile(path.join(dir, 'other.yml'), 'whatever');
    watcher.close();
    await writeFile(file, TWO);
    await delay(150);
    assert.deepEqual(seen, []);
  });
});

describe('diffServers', () => {
  const parse = (text: string) => parseConfigText(text, '/x/servers.yml', {});
  const base = parse(`
servers:
  a: { command: node, args: [a.js] }
  b: { url: "http://127.0.0.1:1/mcp" }
  c: { command: node, args: [c.js], enabled: false }
`);

  it('finds nothing between equal configs', () => {
    assert.deepEqual(diffServers(base, structuredClone(base)), { added: [], removed: [], changed: [] });
  });

  it('finds added, removed and changed servers', () => {
    const next = parse(`
servers:
  a: { command: node, args: [a.js, --verbose] }
  d: { command: node }
`);
    assert.deepEqual(diffServers(base, next), { added: ['d'], removed: ['b'], changed: ['a'] });
  });

  it('any key of a server counts as a change, key order does not', () => {
    const next = parse(`
servers:
  a: { args: [a.js], command: node, timeoutMs: 5000 }
  b: { url: "http://127.0.0.1:1/mcp" }
  c: { command: node, args: [c.js], enabled: false }
`);
    assert.deepEqual(diffServers(base, next), { added: [], removed: [], changed: ['a'] });
    const reordered = parse(`
servers:
  b: { url: "http://127.0.0.1:1/mcp" }
  a: { args: [a.js], command: node }
`);
    assert.deepEqual(diffServers(base, reordered), { added: [], removed: [], changed: [] });
  });

  it('enabling a server adds it; disabling one removes it', () => {
    const next = parse(`
servers:
  a: { command: node, args: [a.js], enabled: false }
  b: { url: "http://127.0.0.1:1/mcp" }
  c: { command: node, args: [c.js] }
`);
    assert.deepEqual(diffServers(base, next), { added: ['c'], removed: ['a'], changed: [] });
  });

  it('ignores changes outside servers', () => {
    const next = structuredClone(base);
    next.health.intervalMs = 1;
    next.routing.default = 'a';
    assert.deepEqual(diffServers(base, next), { added: [], removed: [], changed: [] });
  });
});
