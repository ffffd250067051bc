/**
 * Issue 4's third "Speed" row: `coordinator__lock_file` through the whole MCP path (client →
 * stdio → coordinator → lock store → back), against a plain proxied `echo` call in the same run.
 * Twice: with the embedded (in-process) coordination and with the throwaway loopback
 * redis-server the runner started (`ctx.redisUrl`).
 *
 * Each round is a fresh `node dist/main.js serve` in front of one fixture server. After a
 * warm-up, echo calls and lock_file + unlock_file pairs take turns in slices, so machine noise
 * hits both alike; each call is timed on its own. Per round: p50 of each; the ratio lock ÷ echo
 * is taken within the round, then medianed over rounds. Bounded by counts and the budget;
 * prints nothing on stdout.
 */
import { performance } from 'node:perf_hooks';
import { fixtureConfig, launchCoordinator, pollUntil } from '../coordinator-process.js';
import { RoundBudget, errorText, naRow, roundsRow } from '../rows.js';
import { waitForFullList } from '../session.js';
import { percentile } from '../stats.js';
import type { BenchRow, SectionContext } from '../types.js';

interface LockPlan {
  rounds: number;
  warmupCalls: number;
  slices: number;
  echoPerSlice: number;
  pairsPerSlice: number;
  /** Wall bound on the measured slices of one round. */
  roundMaxMs: number;
}

const FULL: LockPlan = {
  rounds: 5,
  warmupCalls: 200,
  slices: 20,
  echoPerSlice: 50,
  pairsPerSlice: 25,
  roundMaxMs: 6_000,
};
const QUICK: LockPlan = {
  rounds: 2,
  warmupCalls: 100,
  slices: 8,
  echoPerSlice: 50,
  pairsPerSlice: 25,
  roundMaxMs: 2_500,
};

const FILES = 64;
const TARGET = { op: '<=' as const, value: 2 };

type Variant = { label: string; coordination: Record<string, unknown> };

export async function run(ctx: SectionContext): Promise<BenchRow[]> {
  const plan = ctx.quick ? QUICK : FULL;
  const t0 = performance.now();
  const variants: Variant[] = [{ label: 'embedded', coordination: {} }];
  const rows: BenchRow[] = [];
  if (ctx.redisUrl) {
    variants.push({
      label: 'redis',
      coordination: { redis: ctx.redisUrl, prefix: `bench:mcp-locks:${process.pid}:` },
    });
  }
  for (const [i, v] of variants.entries()) {
    ctx.log(v.label);
    try {
      rows.push(...(await measure(ctx, plan, v, t0 + ((i + 1) / 2) * ctx.budgetMs)));
    } catch (error) {
      ctx.log(`  ${v.label} failed: ${errorText(error)}`);
      rows.push(naRow(ratioName(v.label), '×', TARGET, errorText(error)));
    }
  }
  if (!ctx.redisUrl) rows.push(naRow(ratioName('redis'), '×', TARGET, 'no redis-server on this machine'));
  return rows;
}

const ratioName = (label: string) => `\`coordinator__lock_file\` p50 ÷ proxied echo p50 (${label})`;

async function measure(ctx: SectionContext, plan: LockPlan, v: Variant, deadline: number) {
  const budget = new RoundBudget(deadline, plan.rounds);
  const lockRatio: number[] = [];
  const unlockRatio: number[] = [];
  const echoP50: number[] = [];
  const lockP50: number[] = [];
  const unlockP50: number[] = [];
  let round = 0;
  while (budget.next()) {
    round++;
    const c = await launchCoordinator(
      fixtureConfig([{ id: 'fx' }], {
        coordination: {
          ...v.coordination,
          ...(v.coordination.prefix ? { prefix: `${v.coordination.prefix}${round}:` } : {}),
        },
      }),
    );
    try {
      await waitForFullList(c.session, new Set(['fx__echo', 'coordinator__lock_file']), 20_000);
      if (v.coordination.redis) {
        await pollUntil(
          'coordinator connected to redis',
          async () => {
            const h = await c.structured<{ dependencies?: { redis?: string } }>('coordinator__health');
            return h.dependencies?.redis === 'connected' ? true : undefined;
          },
          10_000,
          25,
        );
      }
      const echoArgs = { text: 'hello' };
      const echo = () => c.call('fx__echo', echoArgs);
      let n = 0;
      const pair = async (lock: number[] | undefined, unlock: number[] | undefined) => {
        const file = `src/bench-${n++ % FILES}.ts`;
        let t = performance.now();
        const locked = await c.structured<{ locked?: boolean }>('coordinator__lock_file', { file });
        lock?.push(performance.now() - t);
        if (locked.locked !== true) throw new Error(`lock_file ${file}: ${JSON.stringify(locked)}`);
        t = performance.now();
        const unlocked = await c.structured<{ unlocked?: boolean }>('coordinator__unlock_file', { file });
        unlock?.push(performance.now() - t);
        if (unlocked.unlocked !== true) throw new Error(`unlock_file ${file}: ${JSON.stringify(unlocked)}`);
      };
      for (let i = 0; i < plan.warmupCalls; i++) {
        await echo();
        if (i % 2 === 0) await pair(undefined, undefined);
      }
      const echoes: number[] = [];
      const locks: number[] = [];
      const unlocks: number[] = [];
      const end = performance.now() + plan.roundMaxMs;
      for (let s = 0; s < plan.slices && performance.now() < end; s++) {
        for (let i = 0; i < plan.echoPerSlice; i++) {
          const t = performance.now();
          await echo();
          echoes.push(performance.now() - t);
        }
        for (let i = 0; i < plan.pairsPerSlice; i++) await pair(locks, unlocks);
      }
      const e = percentile(echoes, 0.5);
      const l = percentile(locks, 0.5);
      const u = percentile(unlocks, 0.5);
      echoP50.push(e);
      lockP50.push(l);
      unlockP50.push(u);
      lockRatio.push(l / e);
      unlockRatio.push(u / e);
      ctx.log(
        `  round ${round}: echo p50 ${e.toFixed(3)} ms, lock_file ${l.toFixed(3)} ms, unlock_file ${u.toFixed(3)} ms ` +
          `(${echoes.length} echo, ${locks.length} pairs)`,
      );
    } finally {
      await c.close();
      budget.end();
    }
  }
  return [
    roundsRow(
      ratioName(v.label),
      lockRatio,
      '×',
      TARGET,
      'fresh coordinator per round; echo calls and lock/unlock pairs in alternating slices',
    ),
    roundsRow(`\`coordinator__unlock_file\` p50 ÷ proxied echo p50 (${v.label})`, unlockRatio, '×'),
    roundsRow(`\`coordinator__lock_file\` p50 (${v.label})`, lockP50, 'ms'),
    roundsRow(`\`coordinator__unlock_file\` p50 (${v.label})`, unlockP50, 'ms'),
    roundsRow(`proxied \`fx__echo\` p50 (${v.label} run)`, echoP50, 'ms'),
  ];
}
