/**
 * Exposed names of tools and prompts: `<prefix><separator><name>`, restricted to the character
 * set every major client accepts and to a length budget. Encoding only: the way back from an
 * exposed name is always a map lookup built by the merge, never `split(separator)`, because a
 * prefix or a downstream name may itself contain the separator.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../shared/errors.js';

export interface NamespaceOptions {
  /** Between prefix and name; `__` by default. */
  readonly separator: string;
  /** Longest exposed name; 64 by default (Cursor counts 60 with its own prefix). */
  readonly maxLength: number;
}

export const DEFAULT_NAMESPACE: NamespaceOptions = Object.freeze({ separator: '__', maxLength: 64 });

/** Below this the hash suffix would eat the whole name (the config schema enforces the same). */
export const MIN_NAME_LENGTH = 16;

/** `-` + 8 hex characters. */
const HASH_LENGTH = 8;
const SUFFIX_LENGTH = HASH_LENGTH + 1;
const OUTSIDE_SAFE_SET = /[^A-Za-z0-9_-]/gu;
const SAFE_SEPARATOR = /^[A-Za-z0-9_-]+$/;

/** Every character outside `[A-Za-z0-9_-]` (per code point, so an emoji is one `_`) becomes `_`. */
export function sanitizeName(raw: string): string {
  return raw.replace(OUTSIDE_SAFE_SET, '_');
}

/**
 * The name under which `name` of the namespace `prefix` is exposed. `prefix === ''` exposes the
 * bare name. A result longer than `maxLength` keeps its beginning and ends with `-` + 8 hex
 * characters of sha256(`prefix\0name`) of the unsanitized input, so it is stable across runs and
 * two long names that share a beginning (or differ only in replaced characters) stay distinct.
 */
export function exposedName(prefix: string, name: string, opts: NamespaceOptions): string {
  checkBudget(opts);
  const full = sanitizeName(prefix === '' ? name : `${prefix}${opts.separator}${name}`);
  if (full.length <= opts.maxLength) return full;
  return withSuffix(full, hash8(`${prefix}\0${name}`), opts.maxLength);
}

/**
 * The fallback name of a clash loser whose `<owner><separator><name>` is also taken: always
 * hashed, the hash covering the owner, the name and the attempt so every retry differs while
 * the same inputs always give the same output.
 */
export function hashedName(owner: string, name: string, opts: NamespaceOptions, attempt: number): string {
  checkBudget(opts);
  const base = sanitizeName(`${owner}${opts.separator}${name}`);
  return withSuffix(base, hash8(`${owner}\0${name}\0clash\0${attempt}`), opts.maxLength);
}

/**
 * Could `name` be a name exposed under `namespace` (`exposedName(namespace, …)` or a clash loser's
 * `hashedName(namespace, …)`)? A name cut to `maxLength` keeps only the beginning of its namespace.
 */
export function mayBeUnder(name: string, namespace: string, opts: NamespaceOptions): boolean {
  if (namespace === '') return true;
  const head = sanitizeName(`${namespace}${opts.separator}`);
  if (name.startsWith(head)) return true;
  const kept = opts.maxLength - SUFFIX_LENGTH;
  return head.length > kept && name.length === opts.maxLength && name.startsWith(head.slice(0, kept));
}

function withSuffix(base: string, hash: string, maxLength: number): string {
  return `${base.slice(0, maxLength - SUFFIX_LENGTH)}-${hash}`;
}

function hash8(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, HASH_LENGTH);
}

/** Throws InvalidArgumentError for options no name can be built with. */
export function checkNamespace(opts: NamespaceOptions): void {
  if (!SAFE_SEPARATOR.test(opts.separator)) {
    throw new InvalidArgumentError(
      `namespace separator must match [A-Za-z0-9_-]+, got ${JSON.stringify(opts.separator)}`,
    );
  }
  checkBudget(opts);
}

function checkBudget(opts: NamespaceOptions): void {
  if (!Number.isInteger(opts.maxLength) || opts.maxLength < MIN_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `namespace maxLength must be an integer of at least ${MIN_NAME_LENGTH}, got ${opts.maxLength}`,
    );
  }
}
