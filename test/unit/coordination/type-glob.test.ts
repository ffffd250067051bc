import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { compileTypeGlob, MAX_TYPE_GLOB_LENGTH } from '../../../src/coordination/type-glob.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';

const typeGlobModule = fileURLToPath(new URL('../../../src/coordination/type-glob.ts', import.meta.url));

describe('compileTypeGlob', () => {
  it('matches stars anywhere, several stars, and comma lists', () => {
    const m = compileTypeGlob('file:*:*, *:re*ed, task:claimed');
    assert.ok(m('file:lock:x'));
    assert.ok(!m('file:locked'));
    assert.ok(m('health:recovered'));
    assert.ok(m('task:claimed'));
    assert.ok(!m('task:claim'));
    assert.ok(compileTypeGlob('a*a')('aa'));
    assert.ok(!compileTypeGlob('a*a')('a'));
    assert.ok(compileTypeGlob('*a*b*')('xxaxxbxx'));
    assert.ok(!compileTypeGlob('*a*b*')('xxbxxaxx'));
    assert.ok(compileTypeGlob('**')('anything'));
    assert.ok(compileTypeGlob('a.b')('a.b') && !compileTypeGlob('a.b')('aXb'), 'dots are literal');
  });

  it('answers a pathological glob ("*" × 16 + "Z") at once instead of backtracking', () => {
    // Run in a child: a backtracking matcher would freeze this process, timers included.
    const script = `
      const { compileTypeGlob } = await import(${JSON.stringify(typeGlobModule)});
      const m = compileTypeGlob('*'.repeat(16) + 'Z');
      let hits = 0;
      for (let i = 0; i < 200; i++) if (m('a'.repeat(40 + i) + (i % 2 ? 'Z' : 'Y'))) hits++;
      console.log(hits);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.signal, null, 'the matcher did not finish within 60 s');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '100');
  });

  it('refuses a glob longer than the cap, naming the cap', () => {
    assert.throws(
      () => compileTypeGlob('x'.repeat(MAX_TYPE_GLOB_LENGTH + 1)),
      (error: unknown) => error instanceof InvalidArgumentError && /at most 256/.test(error.message),
    );
    assert.ok(compileTypeGlob('x'.repeat(MAX_TYPE_GLOB_LENGTH))('x'.repeat(MAX_TYPE_GLOB_LENGTH)));
  });
});
