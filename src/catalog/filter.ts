/**
 * Per-server `tools: { include, exclude }`: patterns over the ORIGINAL tool name, `*` matching any
 * run of characters (including none). Exclude wins over include. An absent include keeps
 * everything; an empty include keeps nothing (it says so literally).
 */

export interface NameFilter {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

export type NamePredicate = (name: string) => boolean;

const keepAll: NamePredicate = () => true;

/** Compiled once per catalog build; the predicate is then a couple of regex tests. */
export function compileFilter(filter: NameFilter | undefined): NamePredicate {
  if (!filter || (filter.include === undefined && (filter.exclude ?? []).length === 0)) return keepAll;
  const include = filter.include === undefined ? undefined : toRegExp(filter.include);
  const exclude = filter.exclude && filter.exclude.length > 0 ? toRegExp(filter.exclude) : undefined;
  return (name) => (include === undefined || include.test(name)) && !exclude?.test(name);
}

/** One anchored alternation for the whole list; `[]` compiles to a pattern that never matches. */
function toRegExp(patterns: readonly string[]): RegExp {
  if (patterns.length === 0) return /(?!)/;
  const alternatives = patterns.map((p) => p.split('*').map(escapeRegExp).join('.*'));
  return new RegExp(`^(?:${alternatives.join('|')})$`, 's');
}

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
