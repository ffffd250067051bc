/**
 * What observability costs the call path: one `Metrics.observeCall` (what the router adds to
 * every routed call), one `LogRing.push` (every log and stderr line, redaction included), and one
 * `/metrics` scrape (`Metrics.text()`, 20 servers × 50 tools seen). In process, no server: the
 * figures are the code's own. Bounded in samples and time; returns rows, prints nothing.
 */
import { LogRing } from '../../src/observability/log-ring.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { BenchRow, SectionContext } from '../types.js';

const TIME_LIMIT_MS = 5_000;

export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  const calls = ctx.quick ? 200_000 : 1_000_000;
  const servers = Array.from({ length: 20 }, (_, i) => ({ id: `s${i}`, status: 'connected', restarts: 0 }));
  const tools = Array.from({ length: 50 }, (_, i) => `tool_${i}`);
  const metrics = new Metrics({ pool: { all: () => servers }, locks: { list: async () => [] } });
  // Every label combination seen once first: the steady state of a running coordinator.
  for (const s of servers) for (const t of tools) metrics.observeCall(s.id, `${s.id}__${t}`, 'ok', 0.01);

  const names = servers.map((s) => tools.map((t) => `${s.id}__${t}`));
  const perCall = timed(calls, (i) => {
    const s = i % 20;
    metrics.observeCall(servers[s]!.id, names[s]![i % 50]!, i % 7 === 0 ? 'tool_error' : 'ok', 0.012);
  });
  const ring = new LogRing();
  const line = 'server listening on 127.0.0.1:4100 (pid 4242), 12 tools, ready in 180 ms';
  const perLine = timed(ctx.quick ? 50_000 : 200_000, (i) => ring.push(`server:s${i % 20}`, 'info', line));

  const scrapes: number[] = [];
  const deadline = performance.now() + TIME_LIMIT_MS;
  for (let i = 0; i < (ctx.quick ? 20 : 100) && performance.now() < deadline; i++) {
    const started = performance.now();
    await metrics.text();
    scrapes.push(performance.now() - started);
  }
  scrapes.sort((a, b) => a - b);
  const scrapeP50 = scrapes[Math.floor(scrapes.length / 2)]!;
  return [
    {
      name: 'metrics observeCall (hot path)',
      value: round(perCall * 1e6),
      unit: 'ns/call',
      target: '<= 1000',
      pass: perCall * 1e6 <= 1000,
    },
    { name: 'log ring push (redacted)', value: round(perLine * 1e6), unit: 'ns/line' },
    { name: '/metrics text, 1,000 call series, p50', value: round(scrapeP50), unit: 'ms' },
  ];
}

/** Mean ms per iteration over `n` iterations (bounded by TIME_LIMIT_MS). */
function timed(n: number, fn: (i: number) => void): number {
  const started = performance.now();
  const deadline = started + TIME_LIMIT_MS;
  let i = 0;
  for (; i < n; i++) {
    fn(i);
    if ((i & 0xfff) === 0 && performance.now() > deadline) break;
  }
  return (performance.now() - started) / Math.max(1, i);
}

function round(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}
