/**
 * The http section's load and REST figures, each on a coordinator of its own (so its peak RSS is
 * this load's alone):
 * - N concurrent clients (half modern, half legacy v2 clients) × M echo calls each, one in flight
 *   per client: errors, p50/p99 per call, calls/s, peak RSS (VmHWM) of the coordinator process;
 * - `POST /route` (fx__echo) and `GET /api/tools?q=` with 5,000 tools in the catalog, one request
 *   at a time, taking turns: p50 (p99 in the note).
 */
import { performance } from 'node:perf_hooks';
import { startCoordinatorHttp, type CoordinatorLaunch, type Era, type HttpLaunch } from './http-targets.js';
import { cpuNs, peakRssMb } from './procs.js';
import { errorText, naRow } from './rows.js';
import type { Session } from './session.js';
import { percentile, round } from './stats.js';
import type { BenchRow, SectionContext } from './types.js';

const LOAD = { full: { clients: 200, calls: 250 }, quick: { clients: 20, calls: 50 } };
const TOOLS = 5_000;

const row = (name: string, value: number, unit: string, extra: Partial<BenchRow> = {}): BenchRow => ({
  name,
  value: round(value, 3),
  unit,
  ...extra,
});

export async function loadRows(ctx: SectionContext, deadline: number): Promise<BenchRow[]> {
  const clients = ctx.httpLoad?.clients ?? (ctx.quick ? LOAD.quick : LOAD.full).clients;
  const calls = ctx.httpLoad?.calls ?? (ctx.quick ? LOAD.quick : LOAD.full).calls;
  const what = `${clients} clients × ${calls} calls`;
  let coordinator: HttpLaunch | undefined;
  try {
    ctx.log(`load: ${what}`);
    coordinator = await startCoordinatorHttp();
    const sessions = await Promise.allSettled(
      Array.from({ length: clients }, (_, i) => coordinator!.connect((i % 2 ? 'legacy' : 'modern') as Era)),
    );
    const connected = sessions.flatMap((s, i) => (s.status === 'fulfilled' ? [{ i, session: s.value }] : []));
    const connectErrors = sessions.flatMap((s) => (s.status === 'rejected' ? [errorText(s.reason)] : []));
    const rssBefore = peakRssMb(coordinator.pid!);
    const samples: number[] = [];
    const errors: string[] = [];
    let cut = false;
    const cpu0 = cpuNs(coordinator.pid!);
    const t0 = performance.now();
    const client = async (session: Session, index: number) => {
      for (let i = 0; i < calls; i++) {
        if (performance.now() > deadline) return void (cut = true);
        const t = performance.now();
        try {
          await session.call('fx', 'echo', { text: 'hello' });
          samples.push(performance.now() - t);
        } catch (error) {
          // The era and the low-level cause: "fetch failed" alone says nothing.
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          const why = cause ? ` (${cause.code ?? errorText(cause)})` : '';
          errors.push(`${index % 2 ? 'legacy' : 'modern'}: ${errorText(error)}${why}`);
        }
      }
    };
    await Promise.all(connected.map((c) => client(c.session, c.i)));
    const ms = performance.now() - t0;
    const rss = peakRssMb(coordinator.pid!);
    const cpu = (cpuNs(coordinator.pid!) ?? Number.NaN) - (cpu0 ?? Number.NaN);
    await Promise.allSettled(connected.map((c) => c.session.close()));
    const failures = [...connectErrors, ...errors];
    const attempted = samples.length + errors.length;
    const counts = new Map<string, number>();
    for (const f of failures) counts.set(f, (counts.get(f) ?? 0) + 1);
    const firsts = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([f, n]) => `${n}× ${f}`)
      .join('; ');
    return [
      row(`load ${what}: errors`, failures.length, 'errors', {
        target: '0',
        pass: failures.length === 0 && !cut,
        note:
          `${connectErrors.length} of ${clients} connects failed, ${errors.length} of ${attempted} calls` +
          (cut ? `; stopped at the section's budget after ${attempted} calls` : '') +
          (firsts ? `; ${firsts}` : ''),
      }),
      row(`load ${what}: p50 per call`, percentile(samples, 0.5), 'ms'),
      row(`load ${what}: p99 per call`, percentile(samples, 0.99), 'ms'),
      row(`load ${what}: throughput`, (samples.length / ms) * 1000, 'calls/s'),
      row(`load ${what}: coordinator CPU per call`, cpu / 1e6 / samples.length, 'ms'),
      row(`load ${what}: coordinator peak RSS (VmHWM)`, rss ?? Number.NaN, 'MB', {
        note: `VmHWM after connecting all clients, before the calls: ${rssBefore?.toFixed(1) ?? '?'} MB`,
      }),
    ];
  } catch (error) {
    return [naRow(`load ${what}`, '', undefined, errorText(error))];
  } finally {
    await coordinator?.stop();
  }
}

export async function restRows(ctx: SectionContext, deadline: number): Promise<BenchRow[]> {
  const requests = ctx.quick ? 50 : 300;
  let coordinator: CoordinatorLaunch | undefined;
  const names = [
    `/route p50, ${TOOLS.toLocaleString('en-US')} tools`,
    `/api/tools?q= p50, ${TOOLS.toLocaleString('en-US')} tools`,
  ];
  try {
    ctx.log(`REST with ${TOOLS} tools`);
    coordinator = await startCoordinatorHttp({ tools: TOOLS });
    const url = coordinator.url;
    const total = coordinator.catalogSize;
    const route = async () => {
      const res = await fetch(`${url}/route`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'fx__echo', arguments: { text: 'hello' } }),
      });
      const body = (await res.json()) as { data?: { content?: { text?: string }[] } };
      if (res.status !== 200 || body.data?.content?.[0]?.text !== 'hello')
        throw new Error(`/route answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    };
    let found = 0;
    const search = async () => {
      const res = await fetch(`${url}/api/tools?q=tool_123`);
      const body = (await res.json()) as { tools?: unknown[] };
      if (res.status !== 200 || !body.tools?.length)
        throw new Error(`/api/tools answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      found = body.tools.length;
    };
    const timed = async (fn: () => Promise<void>, into: number[]) => {
      const t = performance.now();
      await fn();
      into.push(performance.now() - t);
    };
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 10; i++) await Promise.all([route(), search()]); // warm-up
    for (let i = 0; i < requests && performance.now() < deadline; i++) {
      await timed(route, a);
      await timed(search, b);
    }
    const p = (s: number[], q: number) => `${percentile(s, q).toFixed(2)} ms`;
    return [
      row(names[0]!, percentile(a, 0.5), 'ms', {
        note: `POST {tool: fx__echo}, one at a time, ${a.length} requests; p99 ${p(a, 0.99)}; catalog ${total} tools`,
      }),
      row(names[1]!, percentile(b, 0.5), 'ms', {
        note: `q=tool_123 (${found} matches), one at a time, ${b.length} requests; p99 ${p(b, 0.99)}`,
      }),
    ];
  } catch (error) {
    return names.map((n) => naRow(n, 'ms', undefined, errorText(error)));
  } finally {
    await coordinator?.stop();
  }
}
