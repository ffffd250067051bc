/* global process, URL, console, setTimeout, fetch */
/**
 * `npm run screenshots`: the README's pictures of the dashboard, docs/screenshots/<tab>.png at
 * 1280×800, taken in Debian's headless Chromium (playwright-core, `CHROMIUM_PATH` to override)
 * against the built `serve --http` with a small realistic team: three npm MCP servers and a
 * fixture, two agents, a lock, tasks in every column, some calls and their logs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs/screenshots');
const dir = mkdtempSync(join(tmpdir(), 'mcpc-screenshots-'));
const pkg = (name) => join(root, 'node_modules/@modelcontextprotocol', name, 'dist/index.js');
const node = process.execPath;
const KEYS = {
  ops: 'ops-key-screenshots-0123456789',
  alice: 'alice-key-screenshots-012345678',
  bob: 'bob-key-screenshots-0123456789a',
};

const workspace = join(dir, 'workspace');
mkdirSync(join(workspace, 'src'), { recursive: true });
writeFileSync(join(workspace, 'README.md'), '# demo workspace\n');
const config = join(dir, 'servers.yml');
writeFileSync(
  config,
  JSON.stringify(
    {
      cacheDir: '',
      servers: {
        filesystem: { command: node, args: [pkg('server-filesystem'), workspace] },
        memory: {
          command: node,
          args: [pkg('server-memory')],
          env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
        },
        everything: { command: node, args: [pkg('server-everything'), 'stdio'] },
        build: { command: node, args: [join(root, 'test/fixtures/tool-server.mjs'), '--name', 'build'] },
      },
      http: {
        auth: {
          keys: [
            { name: 'ops', key: KEYS.ops, scopes: ['read', 'call', 'admin'], agent: 'ops' },
            { name: 'alice', key: KEYS.alice, scopes: ['read', 'call'], agent: 'agent-alice' },
            { name: 'bob', key: KEYS.bob, scopes: ['read', 'call'], agent: 'agent-bob' },
          ],
        },
      },
    },
    null,
    2,
  ),
);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const child = spawn(
  node,
  [join(root, 'dist/main.js'), 'serve', '--http', '127.0.0.1:0', '--config', config],
  {
    cwd: workspace,
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
let stderr = '';
child.stderr.on('data', (chunk) => (stderr += chunk));
let browser;
try {
  let url;
  for (let i = 0; i < 200 && !url; i++) {
    url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
    if (!url) await sleep(100);
  }
  if (!url) throw new Error(`serve --http did not start:\n${stderr}`);
  const call = async (who, tool, args = {}) => {
    const res = await fetch(`${url}/api/tools/${tool}/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[who]}` },
      body: JSON.stringify({ arguments: args }),
    });
    if (!res.ok) throw new Error(`${tool}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  // Every server up and listed.
  for (let i = 0; ; i++) {
    const res = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${KEYS.ops}` } });
    const servers = Object.values((await res.json()).servers ?? {});
    if (servers.length === 4 && servers.every((s) => s.status === 'healthy')) break;
    if (i > 150) throw new Error(`servers not up: ${JSON.stringify(servers)}`);
    await sleep(200);
  }

  // A small team at work.
  await call('alice', 'coordinator__register_agent', {
    capabilities: ['typescript', 'tests'],
    status: 'working',
  });
  await call('bob', 'coordinator__register_agent', { capabilities: ['docs', 'review'], status: 'idle' });
  const task = (taskId, title, files, extra = {}) =>
    call('ops', 'coordinator__create_task', { taskId, title, files, ...extra });
  await task('T-101', 'Add retry to the API client', ['src/api.ts', 'src/retry.ts'], {
    capabilities: ['typescript'],
  });
  await task('T-102', 'Document the dashboard', ['README.md'], { capabilities: ['docs'] });
  await task('T-103', 'Flaky test in the session store', ['test/session.test.ts']);
  await task('T-104', 'Bump the SDK', ['package.json']);
  await call('alice', 'coordinator__claim_task', { taskId: 'T-101' });
  await call('alice', 'coordinator__log_step', {
    taskId: 'T-101',
    message: 'backoff with jitter, 3 attempts',
  });
  await call('alice', 'coordinator__log_step', { taskId: 'T-101', message: 'tests for 429 and 503' });
  await call('bob', 'coordinator__claim_task', { taskId: 'T-104' });
  await call('bob', 'coordinator__complete_task', { taskId: 'T-104', result: { version: '2.4.0' } });
  await call('alice', 'coordinator__claim_task', { taskId: 'T-103' });
  await call('alice', 'coordinator__release_task', { taskId: 'T-103' });
  await call('bob', 'coordinator__lock_file', {
    file: 'src/config.ts',
    reason: 'renaming the options',
    ttlMs: 600_000,
  });
  for (let i = 0; i < 12; i++) await call('ops', 'build__echo', { text: `build ${i}` });
  await call('ops', 'build__sleep', { ms: 30 });
  // Calls to the npm servers: their schemas are theirs, so a refusal is only a warning.
  const tryCall = (tool, args) =>
    call('ops', tool, args).catch((error) => console.error(`warning: ${error.message.slice(0, 200)}`));
  await tryCall('filesystem__list_directory', { path: workspace });
  await tryCall('memory__create_entities', {
    entities: [{ name: 'api-client', entityType: 'module', observations: ['retries 3 times'] }],
  });
  await tryCall('everything__echo', { message: 'hello' });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API key').fill(KEYS.ops);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.live[data-state=open]').waitFor();
  mkdirSync(out, { recursive: true });
  const shot = async (tab, ready) => {
    await page.getByRole('tab', { name: new RegExp(`^${tab}$`, 'i') }).click();
    await ready();
    await sleep(600); // the live refreshes settle
    const file = join(out, `${tab}.png`);
    await page.screenshot({ path: file });
    console.error(`${file}: ${Math.round(statSync(file).size / 1024)} KB`);
  };
  await shot('overview', async () => {
    await page.locator('.card[data-testid="servers-up"] .value', { hasText: '4' }).waitFor();
    // Calls between the overview's two samples (every 5 s), so "Calls / s" is not zero.
    for (let i = 0; i < 22; i++) {
      await call('alice', 'build__echo', { text: `call ${i}` });
      await sleep(250);
    }
  });
  await shot('servers', async () => {
    await page.locator('tr[data-server="filesystem"]').waitFor();
    await sleep(5_500); // a second latency sample: the sparkline
    await page.locator('tr[data-server="build"]').getByRole('button', { name: 'stderr' }).click();
    await page.locator('#stderr-build', { hasText: 'sleep started' }).waitFor();
  });
  await shot('tools', async () => {
    await page.getByLabel('Search tools').fill('filesystem__read');
    await page.locator('[data-tool="filesystem__read_text_file"]').click();
    await page.getByLabel(/^path/).fill(join(workspace, 'README.md'));
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.getByTestId('call-result').waitFor();
  });
  await shot('logs', () => page.locator('ol.log li').first().waitFor());
  await shot('coordination', async () => {
    await page.locator('tr[data-file]').first().waitFor();
    await call('alice', 'coordinator__log_step', { taskId: 'T-101', message: 'ready for review' });
    await page.locator('ol.events li').first().waitFor();
  });
} finally {
  await browser?.close();
  child.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
