/**
 * Issue 10, item 6. There is no Docker engine on our machines, so the image is checked statically
 * here (base image, user, volume, HEALTHCHECK, .dockerignore), and what the image relies on is
 * run for real with the built CLI: the HEALTHCHECK command, and the warm catalog kept in the data
 * volume through $MCP_COORDINATOR_CACHE_DIR. scripts/docker-steps.sh replays the whole build by
 * hand (npm ci, build, prune, run as an unprivileged user); it is too slow for the suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FIXTURE, MAIN, ROOT, tempDir } from '../helpers/coordinator.js';
import { startHttp } from '../helpers/http.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
/** Instructions with continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const finalStage = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')));

describe('Dockerfile', () => {
  test('a current Node LTS base image (>= 22), the same in both stages', () => {
    const version = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];
    assert.ok(version, 'ARG NODE_VERSION');
    assert.ok(Number(version) >= 22 && Number(version) % 2 === 0, `an even (LTS) line >= 22, got ${version}`);
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    assert.equal(froms.length, 2);
    for (const from of froms) assert.match(from, /^FROM node:\$\{NODE_VERSION\}-bookworm-slim\b/);
  });

  test('runs as the unprivileged node user, with a data volume for the catalog and npm caches', () => {
    const user = finalStage.findIndex((line) => line.startsWith('USER '));
    assert.equal(finalStage[user], 'USER node');
    assert.ok(
      user < finalStage.findIndex((line) => line.startsWith('ENTRYPOINT ')),
      'USER before ENTRYPOINT',
    );
    assert.ok(finalStage.includes('VOLUME ["/data"]'));
    const env = finalStage.filter((line) => line.startsWith('ENV ')).join(' ');
    assert.match(env, /MCP_COORDINATOR_CACHE_DIR=\/data\//);
    assert.match(env, /npm_config_cache=\/data\//);
    assert.match(finalStage.join('\n'), /chown -R node:node \/data/);
  });

  test('serves the team gateway (serve --http on 0.0.0.0:8766) with a HEALTHCHECK that asks /health', async () => {
    assert.ok(finalStage.includes('CMD ["serve", "--http", "0.0.0.0:8766"]'));
    assert.ok(finalStage.includes('EXPOSE 8766'));
    const health = finalStage.find((line) => line.startsWith('HEALTHCHECK '));
    const command = /CMD (\[.*\])$/.exec(health ?? '')?.[1];
    assert.ok(command, 'HEALTHCHECK CMD [...]');
    const argv = JSON.parse(command) as string[];
    assert.equal(argv[0], 'node');
    const dir = tempDir();
    // The image's CMD with auth (a non-loopback bind needs it), on a free port of this machine.
    const config = join(dir.path, 'servers.yml');
    writeFileSync(
      config,
      `servers:\n  a: { command: node, args: ['${FIXTURE}'] }\nhttp:\n  auth:\n    keys: [{ name: ops, key: ops-key-0123456789abcdef }]\n`,
    );
    const c = await startHttp(config, { listen: '127.0.0.1:0' });
    try {
      const probe = (url: string) =>
        spawnSync(process.execPath, argv.slice(1), {
          encoding: 'utf8',
          timeout: 20_000,
          env: { ...process.env, MCP_COORDINATOR_HEALTH_URL: url },
        });
      assert.equal(probe(`${c.url}/health`).status, 0, 'healthy coordinator');
      assert.equal(probe('http://127.0.0.1:9/health').status, 1, 'nothing listening');
    } finally {
      await c.stop();
      dir.remove();
    }
  });

  test('the gateway refuses a non-loopback address without http.auth, naming the fix', () => {
    const dir = tempDir();
    try {
      const config = join(dir.path, 'servers.yml');
      writeFileSync(config, 'servers: {}\n');
      const r = spawnSync(process.execPath, [MAIN, 'serve', '--http', '0.0.0.0:0'], {
        cwd: dir.path,
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, MCP_COORDINATOR_CONFIG: config },
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /http\.auth/);
    } finally {
      dir.remove();
    }
  });

  test('.dockerignore keeps the context small but lets every COPY source through', () => {
    for (const heavy of ['node_modules', '.git', 'dist', 'bench', 'test'])
      assert.ok(ignored.includes(heavy), heavy);
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    assert.ok(sources.length >= 5, sources.join(' '));
    for (const source of sources) assert.ok(!ignored.includes(source), `${source} is copied but ignored`);
  });
});

describe('$MCP_COORDINATOR_CACHE_DIR (the image keeps the warm catalog in /data)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('places the warm catalog when the config does not say; cacheDir in the config wins', () => {
    const volume = join(dir.path, 'data', 'catalog');
    const config = join(dir.path, 'servers.yml');
    writeFileSync(config, `servers:\n  a: { command: node, args: ['${FIXTURE}', --name, a] }\n`);
    const run = () =>
      spawnSync(process.execPath, [MAIN, 'tools', '--json', '--config', config], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, MCP_COORDINATOR_CACHE_DIR: volume },
      });
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(volume, 'catalog-cache.json')), 'the catalog is in the volume');
    assert.ok(!existsSync(join(dir.path, '.coordinator-cache')), 'not beside the config');

    writeFileSync(
      config,
      `cacheDir: own\nservers:\n  a: { command: node, args: ['${FIXTURE}', --name, a] }\n`,
    );
    assert.equal(run().status, 0);
    assert.ok(existsSync(join(dir.path, 'own', 'catalog-cache.json')));
  });
});
