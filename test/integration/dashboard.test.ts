/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; no browser
 * download) against the built `serve --http` with two fixture servers of 2,500 tools each: sign-in
 * and its cookie, CSRF, the overview live through a crash, the catalog search and a call from the
 * generated form, the logs live, a lock an MCP client takes appearing without a reload, a read-only key that cannot
 * restart, sign-out — and axe-core plus both viewports on every tab.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { fixtureServer, ROOT, tempDir, waitFor, writeConfig } from '../helpers/coordinator.js';
import { api, startHttp, v2Client, type HttpCoordinator } from '../helpers/http.js';

const OPS = 'ops-key-0123456789abcdef0000';
const VIEWER = 'viewer-key-0123456789abcdef';
const TABS = ['overview', 'servers', 'tools', 'logs', 'coordination'] as const;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** Screenshots of every tab at both sizes, to look at (`$TEST_ARTIFACTS`, else test-results/dashboard). */
const SHOTS = process.env.TEST_ARTIFACTS
  ? join(process.env.TEST_ARTIFACTS, 'dashboard')
  : join(ROOT, 'test-results', 'dashboard');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('the dashboard at /ui/ in headless Chromium', { timeout: 180_000 }, () => {
  const dir = tempDir();
  let c: HttpCoordinator;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  let file = '';

  before(async () => {
    file = writeConfig(dir.path, {
      servers: {
        alpha: fixtureServer('alpha', '--tools', '2500', '--media'),
        beta: fixtureServer('beta', '--tools', '2500'),
      },
      http: {
        auth: {
          keys: [
            { name: 'ops', key: OPS, scopes: ['read', 'call', 'admin'], agent: 'ops-bot' },
            { name: 'viewer', key: VIEWER, scopes: ['read'] },
          ],
        },
      },
    });
    [c, browser] = await Promise.all([
      startHttp(file),
      chromium.launch({
        executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
        args: ['--no-sandbox'],
      }),
    ]);
    await waitFor(async () => (await api(c.url, '/health')).json.status === 'ok', 20_000, 'servers up');
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await c?.stop();
    dir.remove();
  });

  const tab = async (name: (typeof TABS)[number]) => {
    await page.getByRole('tab', { name: new RegExp(`^${name}$`, 'i') }).click();
    await page.locator(`#panel-${name}`).waitFor({ state: 'visible' });
  };
  const signIn = async (key: string) => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
  };
  /** fetch from the page itself (same origin, with its cookie): the status and the error code. */
  const pageFetch = (path: string, init: { method?: string; csrf?: boolean } = {}) =>
    page.evaluate(
      async ({ path, method, csrf }) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (csrf) {
          const session = (await (await fetch('/ui/session')).json()) as { csrfToken: string };
          headers['x-csrf-token'] = session.csrfToken;
        }
        const r = await fetch(path, { method, headers, ...(method === 'GET' ? {} : { body: '{}' }) });
        const body = (await r.json().catch(() => ({}))) as { error?: { code?: string } };
        return { status: r.status, code: body.error?.code };
      },
      { path, method: init.method ?? 'GET', csrf: init.csrf ?? false },
    );
  /**
   * Waits until the overview's cards read as one of `anyOf` ({ testid: text }), checked in the page
   * every frame (a function, not a string: the page's CSP forbids eval).
   */
  const waitCards = (anyOf: Array<Record<string, string>>, timeout = 10_000) =>
    page.waitForFunction(
      (wanted) => {
        type Card = { dataset: { testid?: string }; lastElementChild: { textContent: string | null } | null };
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<Card> } })
          .document;
        const cards: Record<string, string> = {};
        for (const card of doc.querySelectorAll('.card[data-testid]')) {
          cards[card.dataset.testid ?? ''] = card.lastElementChild?.textContent ?? '';
        }
        return wanted.some((w) => Object.entries(w).every(([k, v]) => cards[k] === v));
      },
      anyOf,
      { polling: 'raf', timeout },
    );

  test('sign in with a key: an HttpOnly SameSite=Strict cookie, nothing in storage, CSP headers', async () => {
    const response = await page.goto(`${c.url}/ui/`);
    assert.match(response!.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.getByLabel('API key').fill('wrong-key-000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That key is not valid.').waitFor();
    await signIn(OPS);
    const cookies = await context.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.name, 'mcpc_session');
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, 'Strict');
    assert.notEqual(cookies[0]!.value, OPS);
    const storage = await page.evaluate<string>(
      'JSON.stringify([localStorage.length, sessionStorage.length, document.cookie, location.href])',
    );
    assert.equal(storage.includes(OPS), false);
    assert.deepEqual(JSON.parse(storage).slice(0, 3), [0, 0, '']);
    assert.match(await page.getByTestId('who').innerText(), /ops/);
  });

  test('a state-changing request without the CSRF header is refused; with it, it runs', async () => {
    const without = await pageFetch('/api/tools/alpha__echo/call', { method: 'POST' });
    assert.deepEqual(without, { status: 403, code: 'csrf' });
    const withToken = await pageFetch('/api/tools/alpha__whoami/call', { method: 'POST', csrf: true });
    assert.equal(withToken.status, 200);
    // Reads need no token; the cookie alone does not work outside the page (no Origin, no Sec-Fetch-Site).
    assert.equal((await pageFetch('/status')).status, 200);
    const cookie = (await context.cookies())[0]!;
    const bare = await api(c.url, '/status', { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    assert.equal(bare.status, 401);
  });

  test('the overview shows the servers live: a crash turns one down, then up again, without a reload', async () => {
    await tab('overview');
    await page.locator('.live[data-state=open]').waitFor();
    await waitCards([{ 'servers-up': '2', 'servers-down': '0' }]);
    const crashed = api(c.url, '/api/tools/alpha__crash/call', { body: {}, headers: bearer(OPS) });
    // The bar: the crash shows within 2 s, without a reload.
    await waitCards([{ 'servers-down': '1' }, { 'servers-starting': '1' }], 2_000);
    await crashed;
    await waitCards([{ 'servers-up': '2', 'servers-down': '0', 'servers-starting': '0' }], 15_000);
  });

  test('the tools tab searches 5,000 tools and calls one through its generated form', async () => {
    await tab('tools');
    await page
      .getByTestId('tool-count')
      .getByText(/^\d+ of \d{4,} tools$/)
      .waitFor();
    const total = Number(/of (\d+)/.exec(await page.getByTestId('tool-count').innerText())![1]);
    assert.ok(total >= 5_000, `${total} tools`);
    assert.ok((await page.locator('#tool-list button.tool').count()) < 100, 'only the rows in view exist');
    await page.getByLabel('Search tools').fill('tool_1234');
    await page.getByText(`2 of ${total} tools`).waitFor();
    await page.getByLabel('Search tools').fill('alpha__echo');
    await page.locator('[data-tool="alpha__echo"]').click();
    await page.getByLabel(/^text/).fill('hello from the form');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    const result = page.getByTestId('call-result');
    await result.getByText('hello from the form').first().waitFor();
    assert.match(await page.getByTestId('routing').innerText(), /target\s+alpha/);
  });

  test('a result of every content kind renders: text, a decoded image, an embedded resource, a link, structured content', async () => {
    await tab('tools');
    await page.getByLabel('Search tools').fill('alpha__media');
    await page.locator('[data-tool="alpha__media"]').click();
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    const result = page.getByTestId('call-result');
    await result.getByText('every kind of content').waitFor();
    // The image is drawn from its data (a 2×2 PNG the browser decoded), not shown as text.
    const image = result.getByRole('img', { name: 'image result (image/png)' });
    await image.waitFor();
    assert.deepEqual(
      await image.evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
        return [i.complete, i.naturalWidth, i.naturalHeight];
      }),
      [true, 2, 2],
    );
    const [embedded, link] = await result.locator('.resource').allInnerTexts();
    assert.match(embedded ?? '', /Resource fixture:\/\/alpha\/report\.txt \(text\/plain\)\s+the embedded report/);
    assert.match(link ?? '', /Link fixture:\/\/alpha\/res_0 — res_0/);
    assert.deepEqual(JSON.parse(await result.locator('details pre').innerText()), { kinds: 4, server: 'alpha' });
  });

  test('the logs tab shows a server stderr line live, filtered by source', async () => {
    await api(c.url, '/api/tools/alpha__sleep/call', {
      body: { arguments: { ms: 1 } },
      headers: bearer(OPS),
    });
    await tab('logs');
    await page.locator('.live[data-state=open]').waitFor();
    await page.locator('#log-source option[value="server:alpha"]').waitFor({ state: 'attached' });
    await page.getByLabel('Source').selectOption('server:alpha');
    await api(c.url, '/api/tools/alpha__sleep/call', {
      body: { arguments: { ms: 7 } },
      headers: bearer(OPS),
    });
    await page.locator('ol.log li[data-source="server:alpha"]', { hasText: 'sleep started 7' }).waitFor();
    assert.equal(await page.locator('ol.log li:not([data-source="server:alpha"])').count(), 0);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).click();
  });

  test('the servers tab shows a server recent stderr, and an admin key restarts it', async () => {
    await tab('servers');
    const alpha = page.locator('tr[data-server="alpha"]');
    await alpha.waitFor();
    assert.match(await alpha.innerText(), /alpha\s+healthy\s+legacy\s+stdio\s+250\d/);
    await alpha.getByRole('button', { name: 'stderr' }).click();
    await page.locator('#stderr-alpha', { hasText: 'sleep started 7' }).waitFor();
    await page.locator('tr[data-server="beta"]').getByRole('button', { name: 'Restart' }).click();
    await page.getByText('Restarting beta…').waitFor();
    await waitFor(
      async () => {
        const logs = await api(c.url, '/api/logs?source=coordinator*&limit=1000', { headers: bearer(OPS) });
        return JSON.stringify(logs.json).includes('restarting beta on request');
      },
      5_000,
      'the restart in the coordinator log',
    );
    await page.locator('tr[data-server="beta"][data-status="healthy"]').waitFor({ timeout: 15_000 });

    // servers.yml broken on disk: the tab says so (the running config is kept), and stops once fixed.
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, 'servers: [not: a map\n');
    const alert = page.getByRole('alert').filter({ hasText: 'servers.yml is invalid' });
    await alert.waitFor({ timeout: 15_000 });
    assert.match(await alert.innerText(), /last good config is in use/);
    writeFileSync(file, good);
    await alert.waitFor({ state: 'hidden', timeout: 15_000 });
  });

  test('a lock taken by an MCP client appears in the coordination tab without a reload', async () => {
    await tab('coordination');
    await page.locator('.live[data-state=open]').waitFor();
    // An agent's IDE over MCP (a modern v2 client with the ops key), not the page itself.
    const agent = await v2Client(c.url, { era: 'modern', headers: bearer(OPS) });
    try {
      const taken = await agent.callTool({
        name: 'coordinator__lock_file',
        arguments: { file: 'src/api.rs', reason: 'refactor' },
      });
      assert.notEqual(taken.isError, true);
    } finally {
      await agent.close();
    }
    const row = page.locator('tr[data-file="src/api.rs"]');
    await row.waitFor();
    assert.match(await row.innerText(), /ops-bot\s+refactor\s+\d+s/);
    await page.locator('ol.events li[data-type="file:locked"]').first().waitFor();
    // A task put on the board shows in its status column, with its files.
    await api(c.url, '/api/tools/coordinator__create_task/call', {
      body: { arguments: { taskId: 'T-1', title: 'Split the API module', files: ['src/api.rs'] } },
      headers: bearer(OPS),
    });
    await page.locator('li[data-task="T-1"]', { hasText: 'src/api.rs' }).waitFor();
    assert.match(
      await page.locator('.task-col', { has: page.locator('li[data-task="T-1"]') }).innerText(),
      /^open \(1\)/i,
    );
    await page.getByLabel('Type filter').fill('task:*');
    await page.locator('ol.events li[data-type="task:created"]').waitFor();
    assert.equal(await page.locator('ol.events li[data-type="file:locked"]').count(), 0);
  });

  test('a dropped event stream comes back with backoff and resumes after its last id: nothing missed, nothing twice', async () => {
    // The page reaches the coordinator through a TCP relay on loopback that the test can cut: the
    // connection drops as it would when a proxy or the network does, and the coordinator lives on.
    const relay = tcpRelay(Number(new URL(c.url).port));
    const port = await relay.start();
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await other.newPage();
      const streams: string[] = [];
      p.on('request', (r) => {
        if (r.url().includes('/api/events/stream')) streams.push(new URL(r.url()).search);
      });
      await p.goto(`http://127.0.0.1:${port}/ui/`);
      await p.getByLabel('API key').fill(OPS);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('tab', { name: 'Coordination' }).click();
      const live = (state: string) => p.locator(`.live[data-state=${state}]`).waitFor({ timeout: 15_000 });
      await live('open');
      const lock = async (file: string) => {
        const r = await api(c.url, '/api/tools/coordinator__lock_file/call', {
          body: { arguments: { file } },
          headers: bearer(OPS),
        });
        assert.equal(r.status, 200);
      };
      const eventsFor = (file: string) => p.locator('ol.events li[data-type="file:locked"]', { hasText: file });
      await lock('relay/before.ts');
      await eventsFor('relay/before.ts').waitFor();

      relay.cut();
      await live('retrying');
      await lock('relay/during.ts'); // published while the page cannot hear it
      await relay.start(port);
      await live('open');
      await eventsFor('relay/during.ts').waitFor({ timeout: 15_000 });
      // Each event exactly once: the reconnect asked for what came after the last id it had.
      assert.equal(await eventsFor('relay/before.ts').count(), 1);
      assert.equal(await eventsFor('relay/during.ts').count(), 1);
      assert.ok(streams.length >= 2, `stream requests: ${JSON.stringify(streams)}`);
      assert.match(streams.at(-1)!, /^\?since=\d+/, `the reconnect resumes: ${JSON.stringify(streams)}`);
      await lock('relay/after.ts');
      await eventsFor('relay/after.ts').waitFor();
    } finally {
      await other.close();
      relay.cut();
    }
  });

  test('every tab: no serious axe violation, no horizontal overflow at 1280×800 and 390×844', async () => {
    mkdirSync(SHOTS, { recursive: true });
    await page.evaluate(`${axeSource}\n;undefined`);
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      for (const name of TABS) {
        await tab(name);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        assert.ok(overflow <= 0, `${name} at ${viewport.width}px overflows by ${overflow}px`);
        await page.screenshot({
          path: join(SHOTS, `${name}-${viewport.width}x${viewport.height}.png`),
          fullPage: true,
        });
        const violations = await page.evaluate<Array<{ id: string; impact: string; nodes: unknown[] }>>(
          `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) })))`,
        );
        assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations)}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(cspViolations, []);
    // The tabs follow the keyboard (arrow keys, Home, End), as the ARIA tabs pattern has it.
    await page.getByRole('tab', { name: 'Coordination' }).focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.locator('#panel-servers').waitFor({ state: 'visible' });
    assert.equal(await page.getByRole('tab', { name: 'Servers' }).getAttribute('aria-selected'), 'true');
  });

  test('sign out is refused afterwards; a read-only key sees no restart and the server refuses it', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal((await pageFetch('/status')).status, 401);
    await signIn(VIEWER);
    await tab('servers');
    await page.locator('tr[data-server="alpha"]').waitFor();
    assert.equal(await page.locator('button[data-action=restart]').count(), 0);
    assert.deepEqual(await pageFetch('/api/servers/alpha/restart', { method: 'POST', csrf: true }), {
      status: 403,
      code: 'insufficient_scope',
    });
    await tab('tools');
    await page.getByLabel('Search tools').fill('beta__echo');
    await page.locator('[data-tool="beta__echo"]').click();
    assert.equal(await page.getByRole('button', { name: 'Call', exact: true }).isDisabled(), true);
    // A session that is gone (here: its cookie) sends the page back to the form.
    await context.clearCookies();
    await page.getByRole('tab', { name: 'Servers' }).click();
    await page.getByText('Your session ended; sign in again.').waitFor();
  });
});

/** A TCP relay on a free loopback port to `target`; `cut()` drops every connection and stops listening. */
function tcpRelay(target: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    start(port = 0): Promise<number> {
      server = createServer((client) => {
        const upstream = connect(target, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      const listening = server;
      return new Promise((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', () => {
          const address = listening.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
    },
    cut(): void {
      server?.close();
      server = undefined;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
