/**
 * Event type globs (`coordinator__events {type}`, `events --type`): `*` (or empty) matches
 * everything, `file:*` a family, anything else exactly; `*` may appear anywhere; a comma-separated
 * list matches when any entry does.
 *
 * Matched without regular expressions: a pattern is split at its stars into literal segments; the
 * first must start the type, the last must end it, and each one between is found left to right
 * after the previous one. Taking the leftmost occurrence of each segment is always right for a
 * `*`-only glob, so nothing is ever retried: the cost is bounded by pattern × type length, whatever
 * the pattern (`"*" × 16 + "Z"` used to compile to a backtracking regex that froze the process).
 */
import { InvalidArgumentError } from '../shared/errors.js';

/** Longest glob accepted, all comma-separated entries together. */
export const MAX_TYPE_GLOB_LENGTH = 256;

export type TypeMatcher = (type: string) => boolean;

const matchAll: TypeMatcher = () => true;

export function compileTypeGlob(glob: string | undefined): TypeMatcher {
  if (glob !== undefined && glob.length > MAX_TYPE_GLOB_LENGTH) {
    throw new InvalidArgumentError(
      `type glob is ${glob.length} characters long; at most ${MAX_TYPE_GLOB_LENGTH} are accepted`,
    );
  }
  const patterns = (glob ?? '*')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (patterns.length === 0 || patterns.some((p) => /^\*+$/.test(p))) return matchAll;
  const matchers = patterns.map(compileOne);
  return (type) => matchers.some((matches) => matches(type));
}

function compileOne(pattern: string): TypeMatcher {
  const segments = pattern.split('*');
  if (segments.length === 1) return (type) => type === pattern;
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  const minLength = segments.reduce((sum, s) => sum + s.length, 0);
  return (type) => {
    if (type.length < minLength || !type.startsWith(first) || !type.endsWith(last)) return false;
    let at = first.length;
    const end = type.length - last.length;
    for (const segment of middle) {
      const found = type.indexOf(segment, at);
      if (found === -1 || found + segment.length > end) return false;
      at = found + segment.length;
    }
    return true;
  };
}
