/**
 * Issue 12's speed figures for the dashboard (`/ui/`), in Debian's headless Chromium driven by
 * playwright-core, against the built `serve --http` with one fixture of 5,000 tools while
 * bench/dashboard-events.ts publishes 200 coordination events a second (lock/unlock over REST):
 *
 * - first render of each tab: a fresh browser context (cold cache) opens `/ui/#<tab>`; the time is
 *   `performance.now()` (ms since navigation start) in the first animation frame after the tab's
 *   content is in the DOM (see SHOWN), median over loads, tabs interleaved per round;
 * - JS shipped: dist/ui/app.js gzipped (the only script the page loads), and what went over the wire;
 * - keeping up: the coordination tab open for 5 min (quick 30 s); every second the events published
 *   vs the page's `window.__mcpcStats` (messages taken in, events drawn); the backlog is
 *   published − taken in;
 * - JS heap over that run: CDP `Runtime.getHeapUsage` every 5 s (start / peak / end), and after a
 *   forced GC at start and end (what is retained).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { startEventSource } from '../dashboard-events.js';
import { startCoordinatorHttp } from '../http-targets.js';
import { sleep } from '../procs.js';
import { round, spread } from '../stats.js';
import type { BenchRow, SectionContext, SectionReport } from '../types.js';

const TABS = ['overview', 'servers', 'tools', 'logs', 'coordination'] as const;
type Tab = (typeof TABS)[number];
const RATE = 200;
const TOOLS = 5_000;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * When a tab counts as shown, checked in the page on every DOM mutation: the data it loads first
 * is drawn (not a "Loading" placeholder, not the empty shell).
 */
const SHOWN: Record<Tab, string> = {
  overview: 'the health cards (after /status, /api/tasks, /metrics)',
  servers: 'a server row (after /status)',
  tools: '"N of N tools" and the first rows of the virtual list (after /api/tools, all 5,000)',
  logs: 'the "N shown, N kept" status after the recent lines are drawn (after /api/logs)',
  coordination: 'the locks table body (after /api/locks, /api/tasks, /api/agents)',
};

/**
 * Runs in the page before its scripts (an init script, so the CSP does not apply): on every DOM
 * mutation, is the tab shown (SHOWN)? The first time it is, note `performance.now()`, and again in
 * the next animation frame. Plain JS text: the bench's TypeScript has no DOM types.
 */
const watchShown = (tab: Tab) => `(() => {
  const text = (sel) => document.querySelector(sel)?.textContent ?? '';
  const checks = {
    overview: () => !!document.querySelector('#panel-overview .card[data-testid="servers-up"]'),
    servers: () => !!document.querySelector('#panel-servers tr[data-server]'),
    tools: () => /^\\d+ of \\d+ tools$/.test(text('[data-testid="tool-count"]')) &&
      !!document.querySelector('#tool-list button.tool'),
    logs: () => /^\\d+ shown, \\d+ kept/.test(text('#panel-logs .toolbar [role="status"]')),
    coordination: () => !!document.querySelector('tbody[data-testid="locks"] tr'),
  };
  const check = checks[${JSON.stringify(tab)}];
  const observer = new MutationObserver(() => {
    if (!check()) return;
    observer.disconnect();
    const inDom = performance.now();
    requestAnimationFrame(() => (window.__benchShown = { inDom, frame: performance.now() }));
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
})();`;

/** The page's globals the bench reads (its TypeScript has no DOM types). */
type PageGlobals = {
  __benchShown?: { inDom: number; frame: number };
  __mcpcStats?: { events: number; drawnEvents: number };
};
interface Sample {
  t: number;
  published: number;
  received: number;
  drawn: number;
  heapMb?: number;
  nodes?: number;
}

export async function run(ctx: SectionContext): Promise<SectionReport> {
  const started = performance.now();
  const left = () => ctx.budgetMs - (performance.now() - started);
  const appJs = join(ctx.repoRoot, 'dist/ui/app.js');
  if (!existsSync(appJs))
    return { rows: [notMeasured('dashboard', 'dist/ui/app.js missing: npm run build')] };
  const js = readFileSync(appJs);
  const gz = gzipSync(js).length;
  const sizeRow: BenchRow = {
    name: 'JS shipped, gzipped (dist/ui/app.js, gzip -6)',
    value: round(gz / 1024, 1),
    unit: 'KB',
    target: '≤ 150 KB',
    pass: gz / 1024 <= 150,
    raw: { bytes: js.length, gzipBytes: gz },
  };
  if (!existsSync(CHROMIUM))
    return {
      rows: [sizeRow, notMeasured('browser figures', `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)],
    };

  const { chromium } = await import('playwright-core');
  ctx.log(`coordinator with ${TOOLS} tools…`);
  const coordinator = await startCoordinatorHttp({ tools: TOOLS });
  let browser: Browser | undefined;
  const events = startEventSource(coordinator.url, RATE);
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    ctx.log(`catalog ${coordinator.catalogSize} tools; ${RATE} events/s; first renders…`);

    // First render of each tab, tabs interleaved, order rotating per round.
    const loads = ctx.quick ? 3 : 7;
    const times: Record<Tab, number[]> = { overview: [], servers: [], tools: [], logs: [], coordination: [] };
    const inDom: Record<Tab, number[]> = { overview: [], servers: [], tools: [], logs: [], coordination: [] };
    let wire: { bytes: number; encoding: string } | undefined;
    const during = { published: events.published, t: performance.now() };
    for (let r = 0; r < loads && left() > (ctx.quick ? 60_000 : 330_000); r++) {
      for (let i = 0; i < TABS.length; i++) {
        const tab = TABS[(i + r) % TABS.length]!;
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        try {
          const page = await context.newPage();
          await page.addInitScript(watchShown(tab));
          if (!wire) {
            page.on('response', (res) => {
              if (!res.url().endsWith('/app.js')) return;
              void res.body().then((b) => {
                wire = { bytes: b.length, encoding: res.headers()['content-encoding'] ?? 'none' };
              });
            });
          }
          await page.goto(`${coordinator.url}/ui/#${tab}`);
          const shown = await page.waitForFunction(
            () => (globalThis as unknown as PageGlobals).__benchShown,
            undefined,
            { timeout: 15_000, polling: 50 },
          );
          const value = (await shown.jsonValue()) as { inDom: number; frame: number };
          times[tab].push(value.frame);
          inDom[tab].push(value.inDom);
        } finally {
          await context.close();
        }
      }
    }
    const renderRate = ((events.published - during.published) * 1000) / (performance.now() - during.t);
    const renderRows: BenchRow[] = TABS.map((tab) => {
      const s = spread(times[tab]);
      if (!s) return notMeasured(`first render, ${tab}`, 'no load finished within the budget');
      return {
        name: `first render, ${tab} (median of ${s.n} cold loads)`,
        value: round(s.median, 0),
        unit: 'ms',
        target: '≤ 1000 ms',
        pass: s.median <= 1000,
        min: round(s.min, 0),
        max: round(s.max, 0),
        rounds: s.n,
        note: `navigation start → first frame after ${SHOWN[tab]}; in the DOM at ${round(spread(inDom[tab])!.median, 0)} ms (median); meanwhile ${Math.round(renderRate)} events/s published`,
        raw: { frame: times[tab], inDom: inDom[tab] },
      };
    });
    if (wire)
      sizeRow.note = `${js.length.toLocaleString('en-US')} bytes minified; serve --http sent ${wire.bytes.toLocaleString('en-US')} bytes, content-encoding ${wire.encoding} (loopback)`;

    // Keeping up, and the heap, with the coordination tab open (it draws every event).
    const soakMs = Math.min(ctx.quick ? 30_000 : 300_000, left() - 25_000);
    ctx.log(`coordination tab open for ${Math.round(soakMs / 1000)} s at ${RATE} events/s…`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${coordinator.url}/ui/#coordination`);
    await page.locator('tbody[data-testid="locks"] tr').first().waitFor({ timeout: 15_000 });
    await page.locator('.live[data-state="open"]').waitFor({ timeout: 15_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await sleep(2_000); // settle: the first refreshes and the stream's catch-up
    const gcStart = await heapAfterGc(cdp);
    const base = { ...(await pageStats(page)), published: events.published };
    const samples: Sample[] = [];
    const t0 = performance.now();
    let nextHeap = 0;
    while (performance.now() - t0 < soakMs) {
      await sleep(1_000);
      const t = (performance.now() - t0) / 1000;
      const s = await pageStats(page);
      const sample: Sample = {
        t: round(t, 1),
        published: events.published - base.published,
        received: s.events - base.events,
        drawn: s.drawnEvents - base.drawnEvents,
      };
      if (t >= nextHeap) {
        nextHeap += 5;
        Object.assign(sample, await heapSample(cdp));
      }
      samples.push(sample);
    }
    const last = samples.at(-1)!;
    const gcEnd = await heapAfterGc(cdp);
    await context.close();
    return {
      rows: [...renderRows, sizeRow, ...keepUpRows(samples, soakMs, gcStart, gcEnd, events)],
      markdown: timeline(samples, last.t),
    };
  } finally {
    await events.stop();
    await browser?.close();
    await coordinator.stop();
  }
}

async function pageStats(page: Page): Promise<{ events: number; drawnEvents: number }> {
  return page.evaluate(() => {
    const s = (globalThis as unknown as PageGlobals).__mcpcStats;
    return { events: s?.events ?? Number.NaN, drawnEvents: s?.drawnEvents ?? Number.NaN };
  });
}

async function heapSample(cdp: CDPSession): Promise<{ heapMb: number; nodes: number }> {
  const heap = await cdp.send('Runtime.getHeapUsage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return {
    heapMb: round(heap.usedSize / 2 ** 20, 2),
    nodes: metrics.find((m) => m.name === 'Nodes')?.value ?? Number.NaN,
  };
}

async function heapAfterGc(cdp: CDPSession): Promise<{ heapMb: number; nodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  return heapSample(cdp);
}

function keepUpRows(
  samples: Sample[],
  soakMs: number,
  gcStart: { heapMb: number; nodes: number },
  gcEnd: { heapMb: number; nodes: number },
  events: { failed: number; lastError: string | undefined },
): BenchRow[] {
  const last = samples.at(-1)!;
  const backlog = samples.map((s) => s.published - s.received);
  const slope = fitSlope(
    samples.map((s) => s.t),
    backlog,
  );
  const heaps = samples.filter((s) => s.heapMb !== undefined);
  const heapVals = heaps.map((s) => s.heapMb!);
  const secs = `${Math.round(soakMs / 1000)} s`;
  const failures = events.failed ? `; ${events.failed} calls failed, last: ${events.lastError}` : '';
  return [
    {
      name: `events published (lock/unlock over REST), ${secs}`,
      value: round(last.published / last.t, 1),
      unit: 'events/s',
      target: `${RATE}/s (the load asked for)`,
      pass: last.published / last.t >= RATE * 0.95,
      note: `${last.published} events${failures}`,
      raw: samples,
    },
    {
      name: 'events taken in by the page (EventSource → JS)',
      value: round(last.received / last.t, 1),
      unit: 'events/s',
      note: `${last.received} taken in, ${last.drawn} drawn by the coordination tab (window.__mcpcStats)`,
    },
    {
      name: 'backlog at end (published − taken in)',
      value: backlog.at(-1)!,
      unit: 'events',
      target: `≤ ${RATE} (1 s of events)`,
      pass: backlog.at(-1)! <= RATE,
      note: `max over the run ${Math.max(...backlog)}, sampled every second`,
    },
    {
      name: 'backlog growth (least-squares slope)',
      value: round(slope, 2),
      unit: 'events/s',
      target: '≤ 1/s (no growing backlog)',
      pass: slope <= 1,
    },
    {
      name: 'JS heap used at start (sampled every 5 s)',
      value: heapVals[0] ?? null,
      unit: 'MB',
      note: `peak ${Math.max(...heapVals)} MB, end ${heapVals.at(-1)} MB; DOM nodes ${heaps[0]?.nodes} → ${heaps.at(-1)?.nodes}`,
      raw: heaps.map((s) => [s.t, s.heapMb, s.nodes]),
    },
    { name: 'JS heap used, peak', value: Math.max(...heapVals), unit: 'MB' },
    { name: 'JS heap used, end', value: heapVals.at(-1) ?? null, unit: 'MB' },
    {
      name: 'JS heap after forced GC, end ÷ start',
      value: round(gcEnd.heapMb / gcStart.heapMb, 2),
      unit: '×',
      target: '≤ 1.2× (flat)',
      pass: gcEnd.heapMb / gcStart.heapMb <= 1.2,
      note: `${gcStart.heapMb} MB → ${gcEnd.heapMb} MB retained (HeapProfiler.collectGarbage); DOM nodes ${gcStart.nodes} → ${gcEnd.nodes}`,
    },
  ];
}

/** One line per ~tenth of the run: what was published, taken in, drawn, and the heap. */
function timeline(samples: Sample[], total: number): string {
  const out = [
    '| t (s) | published | taken in | drawn | backlog | JS heap (MB) | DOM nodes |',
    '|---|---|---|---|---|---|---|',
  ];
  const step = Math.max(1, Math.round(total / 10));
  let next = 0;
  let heap: Sample | undefined;
  for (const s of samples) {
    if (s.heapMb !== undefined) heap = s;
    if (s.t < next && s !== samples.at(-1)) continue;
    next = s.t + step;
    out.push(
      `| ${Math.round(s.t)} | ${s.published} | ${s.received} | ${s.drawn} | ${s.published - s.received} | ${heap?.heapMb ?? ''} | ${heap?.nodes ?? ''} |`,
    );
  }
  return out.join('\n');
}

function fitSlope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

function notMeasured(name: string, why: string): BenchRow {
  return { name, value: null, unit: '', note: why };
}
