/**
 * Cursor pagination over the precomputed, frozen catalog lists. Pages are cached per list (by
 * identity, in a WeakMap, so they go with the catalog that owns the list): answering the same
 * cursor twice costs one map hit.
 */
import { InvalidArgumentError } from '../shared/errors.js';
import type { ListPage } from './types.js';

/**
 * Items per page. Large on purpose: clients that ignore `nextCursor` (several do) still see a
 * thousand tools, more than any model can use, and most clients see the whole catalog at once.
 */
export const DEFAULT_PAGE_SIZE = 1000;

const CURSOR_VERSION = 'v1';
const CURSOR_BODY = /^v1:(\d{1,15})$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const cache = new WeakMap<readonly unknown[], Map<string, ListPage<unknown>>>();

/**
 * The page of `items` that `cursor` points at (`undefined` → the first page). A cursor that was
 * not issued here throws InvalidArgumentError; one past the end of a list that shrank since it
 * was issued gives an empty last page, so a client paging across a catalog change just stops.
 * The returned page is frozen and shared between calls.
 */
export function paginate<T>(
  items: readonly T[],
  cursor: string | undefined,
  pageSize: number = DEFAULT_PAGE_SIZE,
): ListPage<T> {
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new InvalidArgumentError(`page size must be a positive integer, got ${pageSize}`);
  }
  const key = cursor === undefined ? `${pageSize}` : `${pageSize}|${cursor}`;
  let pages = cache.get(items);
  const cached = pages?.get(key);
  if (cached) return cached as ListPage<T>;

  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  const end = offset + pageSize;
  const page: ListPage<T> = Object.freeze({
    page: Object.freeze(items.slice(offset, end)) as T[],
    ...(end < items.length ? { nextCursor: encodeCursor(end) } : {}),
  });
  // Only pages this module hands out cursors for, so a client inventing offsets cannot grow it.
  if (offset < items.length && offset % pageSize === 0) {
    if (!pages) cache.set(items, (pages = new Map()));
    pages.set(key, page);
  }
  return page;
}

export function encodeCursor(offset: number): string {
  return Buffer.from(`${CURSOR_VERSION}:${offset}`, 'utf8').toString('base64url');
}

/** The offset a cursor stands for; InvalidArgumentError when it is not one of ours. */
export function decodeCursor(cursor: string): number {
  const body = BASE64URL.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = CURSOR_BODY.exec(body);
  // Re-encoding rejects the non-canonical spellings Buffer would silently accept.
  if (!match?.[1] || encodeCursor(Number(match[1])) !== cursor) {
    throw new InvalidArgumentError(`Invalid cursor: ${JSON.stringify(cursor)}`);
  }
  return Number(match[1]);
}
