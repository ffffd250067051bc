import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, paginate } from '../../../src/catalog/paginate.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';

const items = Object.freeze(Array.from({ length: 25 }, (_, i) => i));

function all<T>(list: readonly T[], pageSize: number): { seen: T[]; pages: number } {
  const seen: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { page, nextCursor } = paginate(list, cursor, pageSize);
    seen.push(...page);
    cursor = nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { seen, pages };
}

describe('paginate', () => {
  it('round-trips through every page with the cursor', () => {
    const { seen, pages } = all(items, 10);
    assert.deepEqual(seen, items);
    assert.equal(pages, 3);
  });

  it('gives the whole list and no cursor when it fits in one page', () => {
    const result = paginate(items, undefined, 25);
    assert.deepEqual(result.page, items);
    assert.equal(result.nextCursor, undefined);
    assert.deepEqual(paginate([], undefined, 10), { page: [] });
  });

  it('issues opaque cursors that decode back to the offset', () => {
    const first = paginate(items, undefined, 10);
    assert.ok(first.nextCursor);
    assert.doesNotMatch(first.nextCursor, /^\d+$/);
    assert.equal(decodeCursor(first.nextCursor), 10);
    assert.equal(decodeCursor(encodeCursor(1234)), 1234);
  });

  it('answers a repeated cursor from the cache with the same frozen page', () => {
    const first = paginate(items, undefined, 10);
    const second = paginate(items, first.nextCursor, 10);
    assert.equal(paginate(items, first.nextCursor, 10), second);
    assert.equal(paginate(items, undefined, 10), first);
    assert.ok(Object.isFrozen(second.page));
    assert.deepEqual(second.page, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('throws InvalidArgumentError on a malformed cursor', () => {
    for (const bad of [
      '',
      'nope',
      '!!!',
      encodeCursor(5) + '=',
      Buffer.from('v1:-3').toString('base64url'),
      Buffer.from('v1:007').toString('base64url'),
      Buffer.from('10').toString('base64url'),
    ]) {
      assert.throws(() => paginate(items, bad, 10), InvalidArgumentError, `cursor ${JSON.stringify(bad)}`);
    }
  });

  it('ends with an empty page when a cursor points past a list that shrank', () => {
    const cursor = paginate(items, undefined, 10).nextCursor;
    const shrunk = items.slice(0, 5);
    assert.deepEqual(paginate(shrunk, cursor, 10), { page: [] });
  });

  it('rejects a page size that is not a positive integer', () => {
    assert.throws(() => paginate(items, undefined, 0), InvalidArgumentError);
    assert.throws(() => paginate(items, undefined, 1.5), InvalidArgumentError);
  });

  it('has a documented default page size', () => {
    assert.equal(DEFAULT_PAGE_SIZE, 1000);
    assert.equal(
      paginate(
        Array.from({ length: 1001 }, (_, i) => i),
        undefined,
      ).page.length,
      1000,
    );
  });
});
