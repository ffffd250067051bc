/**
 * `npm run bench [-- --quick] [-- --only proxy|bus|locks|mcp-locks|board|routing[,…]] [-- --rounds N]`
 *
 * Runs the proxy section (direct, naive SDK proxy, coordinator, npm peers; see targets.ts and
 * peers.ts), then the sections of bench/sections/ that exist: bus, locks, mcp-locks and board against a
 * throwaway loopback redis-server, the others (routing … http, dashboard) without one. Prints one markdown table to stdout
 * (progress goes to stderr) and writes bench/results/<timestamp>.json and latest.json. Every
 * child process is gone when it returns, also on error or Ctrl-C.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import { FULL_PLAN, QUICK_PLAN } from './figures.js';
import { REPO_ROOT } from './fixture.js';
import { ensurePeers, peers } from './peers.js';
import { killDescendants, removeTempDirs } from './procs.js';
import { machine, markdown, summarise, writeResults, type SectionOutcome } from './report.js';
import { runSectionFile } from './section-loader.js';
import { runProxySection, type ProxyResult } from './sections/proxy.js';
import { closeAllSessions } from './session.js';
import {
  baseline,
  coordinator,
  coordinatorModern,
  direct,
  modernDirect,
  naive,
  naiveV2,
  readVersion,
  relay,
} from './targets.js';
import type { SectionContext } from './types.js';

const SECTION_IDS = [
  'proxy',
  'bus',
  'locks',
  'mcp-locks',
  'board',
  'routing',
  'catalog',
  'observability',
  'http',
  'dashboard',
] as const;
type SectionId = (typeof SECTION_IDS)[number];

/** The sections after proxy, in run order: whether they get the redis-server, and their budgets. */
const SECTIONS: readonly { id: SectionId; redis: boolean; budgetMs: number; quickBudgetMs: number }[] = [
  { id: 'bus', redis: true, budgetMs: 90_000, quickBudgetMs: 60_000 },
  { id: 'locks', redis: true, budgetMs: 45_000, quickBudgetMs: 15_000 },
  { id: 'mcp-locks', redis: true, budgetMs: 75_000, quickBudgetMs: 30_000 },
  { id: 'board', redis: true, budgetMs: 120_000, quickBudgetMs: 60_000 },
  { id: 'routing', redis: false, budgetMs: 150_000, quickBudgetMs: 75_000 },
  { id: 'catalog', redis: false, budgetMs: 60_000, quickBudgetMs: 30_000 },
  { id: 'observability', redis: false, budgetMs: 30_000, quickBudgetMs: 15_000 },
  { id: 'http', redis: false, budgetMs: 900_000, quickBudgetMs: 120_000 },
  { id: 'dashboard', redis: false, budgetMs: 480_000, quickBudgetMs: 120_000 },
];

interface Args {
  quick: boolean;
  only: Set<SectionId>;
  rounds?: number;
  /** Contestant ids to run (direct is always run: every ratio needs it). */
  contestants?: Set<string>;
  /** `--http-clients N --http-calls N`: a shorter (or longer) load in the http section. */
  httpLoad: { clients?: number; calls?: number };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: new Set(SECTION_IDS), httpLoad: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const ids = value().split(',');
      for (const id of ids) if (!SECTION_IDS.includes(id as SectionId)) usage(`unknown section ${id}`);
      args.only = new Set(ids as SectionId[]);
    } else if (a === '--rounds' || a.startsWith('--rounds=')) {
      args.rounds = Number(value());
      if (!Number.isInteger(args.rounds) || args.rounds < 1) usage('--rounds needs a positive integer');
    } else if (a === '--contestants' || a.startsWith('--contestants=')) {
      args.contestants = new Set(['direct', ...value().split(',')]);
    } else if (/^--http-(clients|calls)(=|$)/.test(a)) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) usage(`${a.split('=')[0]} needs a positive integer`);
      args.httpLoad[a.startsWith('--http-clients') ? 'clients' : 'calls'] = n;
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  return args;
}

function usage(problem?: string): never {
  if (problem) console.error(`bench: ${problem}`);
  console.error(
    'usage: npm run bench -- [--quick] [--only proxy|bus|locks|mcp-locks|board|routing|catalog|observability|http|dashboard[,...]] [--rounds N] [--contestants relay,naive,naive-v2,coordinator,mcp-hub] [--http-clients N] [--http-calls N]',
  );
  process.exit(problem ? 2 : 0);
}

const log = (scope: string) => (message: string) => console.error(`[${scope}] ${message}`);
const sectionFile = (id: string) => join(REPO_ROOT, 'bench/sections', `${id}.ts`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const date = new Date();
  const loadavgAtStart = machine().loadavg;
  const t0 = performance.now();
  const basePlan = args.quick ? QUICK_PLAN : FULL_PLAN;
  const plan = args.rounds ? { ...basePlan, rounds: args.rounds } : basePlan;
  const sectionCtx = (id: string, budgetMs: number, redisUrl?: string): SectionContext => ({
    repoRoot: REPO_ROOT,
    quick: args.quick,
    redisUrl,
    budgetMs,
    log: log(id),
    httpLoad: args.httpLoad,
  });

  let proxy: ProxyResult | undefined;
  if (args.only.has('proxy') || args.only.has('http')) await ensurePeers(log('peers'));
  if (args.only.has('proxy')) {
    const contestants = [
      direct,
      relay,
      naive,
      naiveV2,
      coordinator,
      baseline,
      modernDirect,
      coordinatorModern,
      ...peers,
    ].filter((c) => !args.contestants || args.contestants.has(c.id));
    proxy = await runProxySection(sectionCtx('proxy', plan.budgetMs), plan, contestants);
  }

  const sections: Record<string, SectionOutcome> = {};
  const wanted = SECTIONS.filter((sec) => args.only.has(sec.id));
  const present = wanted.filter((sec) => existsSync(sectionFile(sec.id)));
  for (const sec of wanted) {
    if (!present.includes(sec))
      sections[sec.id] = { rows: [], skipped: `bench/sections/${sec.id}.ts not written yet` };
  }
  const runSection = async (sec: (typeof SECTIONS)[number], redisUrl?: string) => {
    log(sec.id)('running');
    const budget = args.quick ? sec.quickBudgetMs : sec.budgetMs;
    sections[sec.id] = await runSectionFile(
      sectionFile(sec.id),
      sec.id,
      sectionCtx(sec.id, budget, redisUrl),
    );
  };
  const withRedis = present.filter((sec) => sec.redis);
  if (withRedis.length) {
    let redis: RedisServer | undefined;
    try {
      redis = await startRedis();
      log('redis')(`redis-server on ${redis.url}`);
    } catch (error) {
      log('redis')(`no redis-server: ${(error as Error).message}`);
    }
    try {
      for (const sec of withRedis) await runSection(sec, redis?.url);
    } finally {
      await redis?.stop();
    }
  }
  for (const sec of present.filter((x) => !x.redis)) await runSection(sec);

  const summary = proxy ? summarise(proxy) : undefined;
  const info = { ...machine(), loadavgAtStart };
  const header = [
    `## mcp-coordinator bench — ${date.toISOString()}${args.quick ? ' (--quick)' : ''}`,
    '',
    `${info.cpus} × ${info.cpuModel} · node ${info.node} · ${info.platform} · ` +
      `load avg ${loadavgAtStart[0]} at start, ${info.loadavg[0]} at end`,
  ].join('\n');
  process.stdout.write(markdown(proxy, summary, sections, header));

  const file = writeResults(join(REPO_ROOT, 'bench/results'), date, {
    date: date.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    args: {
      quick: args.quick,
      only: [...args.only],
      rounds: args.rounds,
      contestants: args.contestants && [...args.contestants],
      httpLoad: args.httpLoad,
    },
    machine: info,
    sdkVersion: readVersion(join(REPO_ROOT, 'node_modules/@modelcontextprotocol/sdk/package.json')),
    coordinatorVersion: JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version,
    proxy: proxy && {
      plan: proxy.plan,
      rounds: proxy.rounds,
      durationMs: Math.round(proxy.durationMs),
      contestants: proxy.contestants,
      figures: summary,
      raw: proxy.results,
    },
    sections,
  });
  log('bench')(
    `wrote ${file} and bench/results/latest.json in ${Math.round((performance.now() - t0) / 1000)} s`,
  );
  return 0;
}

async function cleanup(): Promise<void> {
  await closeAllSessions();
  const killed = await killDescendants();
  for (const what of killed) log('bench')(`killed leftover child process ${what}`);
  removeTempDirs();
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    log('bench')(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error('[bench] failed:', error);
} finally {
  exiting = true;
  await cleanup();
}
process.exit(code);
