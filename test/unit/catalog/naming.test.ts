import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkNamespace, exposedName, hashedName, sanitizeName } from '../../../src/catalog/naming.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';
import { NS } from './snapshots.js';

const SAFE = /^[A-Za-z0-9_-]+$/;

describe('exposedName', () => {
  it('joins prefix and name with the separator', () => {
    assert.equal(exposedName('memory', 'create_entities', NS), 'memory__create_entities');
    assert.equal(exposedName('fs', 'read', { separator: '-', maxLength: 64 }), 'fs-read');
  });

  it('exposes the bare name when the prefix is empty', () => {
    assert.equal(exposedName('', 'search', NS), 'search');
  });

  it('replaces characters outside [A-Za-z0-9_-] with _', () => {
    assert.equal(exposedName('', 'a.b/c', NS), 'a_b_c');
    assert.equal(exposedName('docs', 'get page:v2', NS), 'docs__get_page_v2');
    // One `_` per code point, not per UTF-16 unit.
    assert.equal(sanitizeName('ok😀é'), 'ok__');
  });

  it('keeps a name of exactly maxLength unchanged', () => {
    const name = 'x'.repeat(64 - 'srv__'.length);
    const out = exposedName('srv', name, NS);
    assert.equal(out, `srv__${name}`);
    assert.equal(out.length, 64);
  });

  it('shortens a long name to maxLength with a hash of the unshortened prefix\\0name', () => {
    const name = 'a_really_long_tool_name_that_goes_on_and_on_well_past_the_budget_of_sixty_four';
    const out = exposedName('memory', name, NS);
    assert.equal(out.length, 64);
    assert.match(out, SAFE);
    const hash = createHash('sha256').update(`memory\0${name}`).digest('hex').slice(0, 8);
    assert.equal(out, `${`memory__${name}`.slice(0, 55)}-${hash}`);
  });

  it('is stable: the same input always gives the same output', () => {
    const name = 'z'.repeat(100);
    assert.equal(exposedName('p', name, NS), exposedName('p', name, NS));
    assert.equal(hashedName('p', name, NS, 0), hashedName('p', name, NS, 0));
  });

  it('does not collide two long names that share their beginning', () => {
    const common = 'list_all_the_things_in_the_workspace_that_match_the_given_filter_';
    const a = exposedName('srv', `${common}alpha`, NS);
    const b = exposedName('srv', `${common}beta`, NS);
    assert.notEqual(a, b);
    assert.equal(a.length, 64);
    assert.equal(b.length, 64);
    assert.equal(a.slice(0, 55), b.slice(0, 55));
  });

  it('does not collide long names that differ only in replaced characters', () => {
    const long = 'n'.repeat(70);
    assert.notEqual(exposedName('s', `${long}.x`, NS), exposedName('s', `${long}/x`, NS));
  });

  it('respects a smaller budget', () => {
    const out = exposedName('server', 'some_tool_name_here', { separator: '__', maxLength: 16 });
    assert.equal(out.length, 16);
    assert.match(out, /^server_-[0-9a-f]{8}$/);
  });

  it('rejects a budget too small for the hash suffix and an unsafe separator', () => {
    assert.throws(() => exposedName('a', 'b', { separator: '__', maxLength: 8 }), InvalidArgumentError);
    assert.throws(() => checkNamespace({ separator: '.', maxLength: 64 }), InvalidArgumentError);
    assert.throws(() => checkNamespace({ separator: '', maxLength: 64 }), InvalidArgumentError);
    assert.doesNotThrow(() => checkNamespace(NS));
  });
});

describe('hashedName', () => {
  it('always carries a hash, fits the budget and differs per attempt and owner', () => {
    const first = hashedName('b', 'search', NS, 0);
    assert.match(first, /^b__search-[0-9a-f]{8}$/);
    assert.notEqual(first, hashedName('b', 'search', NS, 1));
    assert.notEqual(first, hashedName('c', 'search', NS, 0));
    assert.equal(hashedName('b', 'q'.repeat(200), NS, 0).length, 64);
  });
});
