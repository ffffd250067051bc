/**
 * Whose time is the 5,000-tool `tools/list`? The proxy section measures it as a client sees it:
 * an SDK Client, all pages, which includes that client's own JSON.parse and zod validation of
 * ~1.4 MB. Here the same catalog (10 fixtures × 500 tools) is listed in the same round by:
 *
 * - an SDK Client (as in the proxy section), and
 * - a raw pipe client: it writes each `tools/list` line itself and stops the clock once the
 *   response line is complete (joined and decoded); the page is parsed (for its `nextCursor`)
 *   after the clock stopped. What remains is the coordinator's own time plus the pipe.
 *
 * Each reader has its own coordinator process, both open side by side, taking turns.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { fixtureConfig, launchCoordinator, type CoordinatorProcess } from '../coordinator-process.js';
import { expectedNames, servers } from '../fixture.js';
import { descendants, sleep, tempDir } from '../procs.js';
import { roundsRow, RoundBudget } from '../rows.js';
import { waitForFullList } from '../session.js';
import { median, percentile } from '../stats.js';
import { COORDINATOR_MAIN } from '../targets.js';
import type { BenchRow, SectionContext } from '../types.js';

const SERVERS = 10;
const TOOLS_EACH = 500;
const TARGET = { op: '<=' as const, value: 10 };

export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  const deadline = performance.now() + ctx.budgetMs;
  const rounds = ctx.quick ? 2 : 5;
  const listsPerTurn = ctx.quick ? 5 : 10;
  const specs = servers(SERVERS, TOOLS_EACH);
  const expected = expectedNames(specs);
  const config = fixtureConfig(
    specs.map((s) => ({ id: s.id, flags: ['--tools', String(s.tools)] })),
    { cacheDir: '' },
  );

  let sdk: CoordinatorProcess | undefined;
  let raw: RawCoordinator | undefined;
  try {
    sdk = await launchCoordinator(config);
    raw = await RawCoordinator.start(config);
    await waitForFullList(sdk.session, expected, 60_000);
    await raw.waitForTools(expected.size, 60_000);
    // Warm-up: both paths, a few lists each.
    for (let i = 0; i < 3; i++) {
      await sdk.session.listToolNames();
      await raw.listAll();
    }
    const sdkP50: number[] = [];
    const rawP50: number[] = [];
    const budget = new RoundBudget(deadline - 5_000, rounds);
    while (budget.next()) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < listsPerTurn; i++) {
        const t0 = performance.now();
        const names = await sdk.session.listToolNames();
        a.push(performance.now() - t0);
        if (names.length < expected.size) throw new Error(`SDK client listed ${names.length} tools`);
        const r = await raw.listAll();
        b.push(r.ms);
        if (r.tools < expected.size) throw new Error(`raw client listed ${r.tools} tools`);
      }
      sdkP50.push(percentile(a, 0.5));
      rawP50.push(percentile(b, 0.5));
      ctx.log(
        `  round ${budget.completed + 1}: SDK client ${median(a).toFixed(1)} ms, raw ${median(b).toFixed(1)} ms`,
      );
      budget.end();
    }
    const share = sdkP50.map((v, i) => v - rawP50[i]!);
    return [
      roundsRow(
        `tools/list of ${SERVERS * TOOLS_EACH} tools, all pages, SDK Client (as the proxy section), p50`,
        sdkP50,
        'ms',
        TARGET,
        `${listsPerTurn} lists per round`,
      ),
      roundsRow(
        'same catalog, raw pipe client: request written → last byte of each page, parse excluded, p50',
        rawP50,
        'ms',
        TARGET,
        "the coordinator's own time, the pipe, and joining and decoding the line",
      ),
      roundsRow('of which the SDK Client spends parsing and validating, p50 difference', share, 'ms'),
    ];
  } finally {
    await Promise.allSettled([sdk?.close(), raw?.close()]);
  }
}

/** `node dist/main.js serve` spoken to line by line, timing bytes only. */
class RawCoordinator {
  private chunks: Buffer[] = [];
  private wake: (() => void) | undefined;
  private nextId = 0;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      if (chunk.includes(0x0a)) this.wake?.();
    });
  }

  static async start(config: Record<string, unknown>): Promise<RawCoordinator> {
    const dir = tempDir('catalog-raw');
    const file = join(dir, 'servers.yml');
    writeFileSync(file, stringify(config));
    const child = spawn(process.execPath, [COORDINATOR_MAIN, 'serve', '--config', file], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr.resume();
    const raw = new RawCoordinator(child);
    try {
      await raw.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench-raw', version: '1' },
      });
    } catch (error) {
      await raw.close();
      throw error;
    }
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    return raw;
  }

  async waitForTools(count: number, timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while ((await this.listAll()).tools < count) {
      if (performance.now() > end)
        throw new Error(`raw client: fewer than ${count} tools after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Every page; `ms` sums request-written → response-line-complete over the pages. */
  async listAll(): Promise<{ tools: number; ms: number }> {
    let cursor: string | undefined;
    let tools = 0;
    let ms = 0;
    do {
      const t0 = performance.now();
      const line = await this.requestLine('tools/list', cursor ? { cursor } : {});
      ms += performance.now() - t0;
      const result = (JSON.parse(line) as { result: { tools: unknown[]; nextCursor?: string } }).result;
      tools += result.tools.length;
      cursor = result.nextCursor;
    } while (cursor);
    return { tools, ms };
  }

  private async request(method: string, params: Record<string, unknown>): Promise<unknown> {
    return JSON.parse(await this.requestLine(method, params));
  }

  /** Sends one request; resolves with its response line (notifications before it are skipped). */
  private async requestLine(method: string, params: Record<string, unknown>): Promise<string> {
    const id = ++this.nextId;
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    const tag = `"id":${id},`;
    const deadline = performance.now() + 30_000;
    for (;;) {
      const line = await this.nextLine(deadline);
      if (line.includes(tag) || line.includes(`"id":${id}}`)) return line;
    }
  }

  private async nextLine(deadline: number): Promise<string> {
    for (;;) {
      const nl = this.chunks.findIndex((c) => c.includes(0x0a));
      if (nl >= 0) {
        const head = Buffer.concat(this.chunks.slice(0, nl + 1));
        const at = head.indexOf(0x0a);
        const rest = head.subarray(at + 1);
        this.chunks = rest.length > 0 ? [rest, ...this.chunks.slice(nl + 1)] : this.chunks.slice(nl + 1);
        return head.toString('utf8', 0, at);
      }
      if (this.child.exitCode !== null) throw new Error('raw client: coordinator exited');
      if (performance.now() > deadline) throw new Error('raw client: no response within 30 s');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 1_000).unref();
      });
      this.wake = undefined;
    }
  }

  /** stdin closed (the coordinator stops its servers), then SIGKILL for whatever is still there. */
  async close(): Promise<void> {
    const children = this.child.pid === undefined ? [] : descendants(this.child.pid);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.stdin.end();
      await Promise.race([exited, sleep(5_000)]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    // Its servers lead their own process groups; ones it could not stop are killed here.
    for (const pid of children) {
      try {
        process.kill(-pid, 0);
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone (and its group with it)
      }
    }
  }
}
