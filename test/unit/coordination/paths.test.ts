import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { normalizeLockPath } from '../../../src/coordination/paths.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';

const ROOT = '/work/repo';

describe('normalizeLockPath', () => {
  it('makes relative and absolute spellings of one file the same key', () => {
    const spellings = [
      'src/a.ts',
      './src/a.ts',
      'src/x/../a.ts',
      'src//a.ts',
      '/work/repo/src/a.ts',
      'src/./a.ts',
    ];
    for (const s of spellings) assert.equal(normalizeLockPath(s, ROOT), 'src/a.ts', s);
    assert.equal(normalizeLockPath('./a/../b', ROOT), 'b');
  });

  it('accepts a root given with a trailing slash or dots', () => {
    assert.equal(normalizeLockPath('/work/repo/a.ts', '/work/repo/'), 'a.ts');
    assert.equal(normalizeLockPath('a.ts', '/work/other/../repo'), 'a.ts');
  });

  it('keeps case and unusual characters', () => {
    assert.equal(normalizeLockPath('Src/My File [1].ts', ROOT), 'Src/My File [1].ts');
  });

  it('refuses a path that escapes the root, naming it', () => {
    for (const bad of ['../x.ts', 'src/../../x.ts', '/etc/passwd', '/work/repository/a.ts']) {
      assert.throws(
        () => normalizeLockPath(bad, ROOT),
        (error: unknown) =>
          error instanceof InvalidArgumentError && error.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  it('refuses empty paths and the root itself', () => {
    for (const bad of ['', '  ', '.', './', '/work/repo', 'a/..']) {
      assert.throws(() => normalizeLockPath(bad, ROOT), InvalidArgumentError, JSON.stringify(bad));
    }
  });
});
