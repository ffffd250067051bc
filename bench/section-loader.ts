/**
 * Loads a section written by someone else (bench/sections/bus.ts, locks.ts) without knowing its
 * exact export: `run(ctx)`, a default export, or `bench…(redisUrl)` functions.
 */
import { pathToFileURL } from 'node:url';
import { withTimeout } from './procs.js';
import type { SectionOutcome } from './report.js';
import type { BenchRow, Section, SectionContext, SectionReport } from './types.js';

type Call = (ctx: SectionContext) => ReturnType<Section>;

/**
 * What to call in a section module: `run(ctx)` or a default export (the contract, see
 * bench/types.ts); failing that, functions named `bench…`/`run…`/`…Section`, called with the
 * Redis URL (the older `benchBus(redisUrl)` form).
 */
export function sectionFunctions(id: string, mod: Record<string, unknown>): Call[] {
  const fns = Object.entries(mod).filter((e): e is [string, Section] => typeof e[1] === 'function');
  const preferred = fns.find(([name]) => name === 'run' || name === 'default');
  if (preferred) return [preferred[1]];
  const legacy = fns.filter(([name]) => /^(run|bench)|Section$/i.test(name));
  return legacy.map(([name, fn]) => (ctx: SectionContext) => {
    if (!ctx.redisUrl) throw new Error(`${name}(redisUrl): no redis-server for section ${id}`);
    return (fn as unknown as (url: string) => ReturnType<Section>)(ctx.redisUrl);
  });
}

export function toRows(value: unknown): BenchRow[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((r: Partial<BenchRow>) => {
    if (!r || typeof r.name !== 'string') throw new Error(`not a bench row: ${JSON.stringify(r)}`);
    return {
      ...r,
      name: r.name,
      unit: String(r.unit ?? ''),
      value: typeof r.value === 'number' ? r.value : null,
    };
  });
}

const isReport = (value: unknown): value is SectionReport =>
  typeof value === 'object' && value !== null && Array.isArray((value as SectionReport).rows);

/** Imports a section module and runs it within its budget; failures become the outcome's error. */
export async function runSectionFile(file: string, id: string, ctx: SectionContext): Promise<SectionOutcome> {
  try {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const fns = sectionFunctions(id, mod);
    if (fns.length === 0) return { rows: [], error: `bench/sections/${id}.ts exports no section function` };
    const rows: BenchRow[] = [];
    const markdown: string[] = [];
    for (const fn of fns) {
      const result = await withTimeout(Promise.resolve(fn(ctx)), ctx.budgetMs + 15_000, `section ${id}`);
      if (isReport(result)) {
        rows.push(...toRows(result.rows));
        if (result.markdown) markdown.push(result.markdown);
      } else rows.push(...toRows(result));
    }
    return markdown.length ? { rows, markdown: markdown.join('\n') } : { rows };
  } catch (error) {
    return { rows: [], error: (error as Error).message.split('\n')[0] };
  }
}
