import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { describeFatal } from '../../../src/cli/fatal.js';

describe('describeFatal', () => {
  it('names a dependency an ESM import could not find, and says to install again', async () => {
    const error = await import('no-such-dependency-xyz' as string).catch((e: unknown) => e);
    const message = describeFatal(error);
    assert.match(message, /^its dependency no-such-dependency-xyz is missing: the install is incomplete/);
    assert.match(message, /Install it again/);
  });

  it('names a dependency a require() could not find, by its package path', () => {
    let error: unknown;
    try {
      createRequire(import.meta.url)('ajv-missing-xyz/dist/runtime/equal');
    } catch (e) {
      error = e;
    }
    assert.match(describeFatal(error), /^its dependency ajv-missing-xyz\/dist\/runtime\/equal is missing/);
  });

  it('keeps the stack of any other error, and a relative module that is missing is a bug, not an install', async () => {
    const other = new Error('boom');
    assert.equal(describeFatal(other), other.stack);
    const relative = await import('./no-such-file.js' as string).catch((e: unknown) => e);
    assert.doesNotMatch(describeFatal(relative), /is missing: the install/);
    assert.equal(describeFatal('plain'), 'plain');
  });
});
