import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contextMatches, resolveRoute, type RoutingPolicy } from '../../../src/router/resolve.js';
import { InvalidArgumentError } from '../../../src/shared/errors.js';

const policy = (over: Partial<RoutingPolicy> = {}): RoutingPolicy => ({
  rules: [
    { when: { context: { 'finance-ssc': true } }, target: 'prod', reason: 'Finance needs production data' },
    { when: { context: { migration: true } }, target: 'lab' },
    { when: { context: { region: 'eu' } }, target: 'elsewhere' },
  ],
  defaultTarget: 'prod',
  failover: 'never',
  groups: new Map([['odoo', ['prod', 'lab']]]),
  ...over,
});
const members = ['prod', 'lab'];

describe('resolveRoute', () => {
  test('explicit target first, alone unless failover is group', () => {
    assert.deepEqual(resolveRoute({ name: 't', members, target: 'lab' }, policy()), {
      candidates: ['lab'],
      reason: 'explicit target lab',
    });
    assert.deepEqual(
      resolveRoute({ name: 't', members, target: 'lab' }, policy({ failover: 'group' })).candidates,
      ['lab', 'prod'],
    );
  });

  test('a group id as target routes inside the group', () => {
    assert.deepEqual(resolveRoute({ name: 't', members, target: 'odoo' }, policy()).candidates, [
      'prod',
      'lab',
    ]);
  });

  test('a target that does not offer the tool is InvalidArgumentError naming who does', () => {
    assert.throws(
      () => resolveRoute({ name: 'odoo__x', members, target: 'solo' }, policy()),
      (e: unknown) => e instanceof InvalidArgumentError && /solo.*odoo__x.*prod, lab/.test(e.message),
    );
  });

  test('the first matching context rule wins, with its reason or its number', () => {
    assert.deepEqual(resolveRoute({ name: 't', members, context: { migration: true, x: 1 } }, policy()), {
      candidates: ['lab', 'prod'],
      reason: 'context rule #2',
    });
    assert.deepEqual(
      resolveRoute({ name: 't', members, context: { 'finance-ssc': true, migration: true } }, policy())
        .reason,
      'Finance needs production data',
    );
  });

  test('a rule whose target lacks the tool, or that matches nothing, falls through to the default', () => {
    assert.deepEqual(resolveRoute({ name: 't', members, context: { region: 'eu' } }, policy()), {
      candidates: ['prod', 'lab'],
      reason: 'default',
    });
    assert.equal(
      resolveRoute({ name: 't', members, context: { migration: 'yes' } }, policy()).reason,
      'default',
    );
  });

  test('without a usable default: config order, or the only server', () => {
    assert.deepEqual(
      resolveRoute({ name: 't', members: ['lab', 'prod'] }, policy({ defaultTarget: undefined })),
      {
        candidates: ['lab', 'prod'],
        reason: 'config order',
      },
    );
    assert.deepEqual(resolveRoute({ name: 't', members: ['solo'] }, policy()), {
      candidates: ['solo'],
      reason: 'only server',
    });
  });

  test('no member at all is an error', () => {
    assert.throws(() => resolveRoute({ name: 't', members: [] }, policy()), InvalidArgumentError);
  });
});

describe('contextMatches', () => {
  test('every listed key must equal the context value; objects compare by value', () => {
    assert.equal(contextMatches({ a: true }, { a: true, b: 2 }), true);
    assert.equal(contextMatches({ a: true, b: 2 }, { a: true }), false);
    assert.equal(contextMatches({ a: 1 }, { a: '1' }), false);
    assert.equal(contextMatches({ a: { x: [1] } }, { a: { x: [1] } }), true);
    assert.equal(contextMatches({ a: null }, { a: null }), true);
    assert.equal(contextMatches({}, {}), true);
  });
});
