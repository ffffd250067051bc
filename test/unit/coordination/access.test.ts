import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessControl, compilePathGlob, compileWildcard } from '../../../src/coordination/access.js';
import { MemoryBus } from '../../../src/coordination/bus/memory.js';

describe('access globs', () => {
  it('wildcards: * any run, ? one character, the rest literal', () => {
    assert.ok(compileWildcard('fs__*')('fs__write_file'));
    assert.ok(!compileWildcard('fs__*')('git__fs__x'));
    assert.ok(compileWildcard('*__write*')('fs__write_file'));
    assert.ok(compileWildcard('agent-?')('agent-a'));
    assert.ok(!compileWildcard('agent-?')('agent-ab'));
    assert.ok(compileWildcard('exact')('exact'));
    assert.ok(!compileWildcard('exact')('exactly'));
    assert.ok(compileWildcard('*')(''));
  });

  it('stays fast on a glob that would backtrack as a regex', () => {
    const started = performance.now();
    assert.ok(!compileWildcard(`${'*a'.repeat(30)}b`)('a'.repeat(5_000)));
    assert.ok(!compilePathGlob(`${'**/'.repeat(30)}x`)(`${'a/'.repeat(500)}y`));
    assert.ok(performance.now() - started < 1_000);
  });

  it('paths: * and ? within a segment, ** across segments, dir/ for everything under it', () => {
    const src = compilePathGlob('src/**');
    assert.ok(src('src/a.ts'));
    assert.ok(src('src/deep/er/a.ts'));
    assert.ok(!src('lib/src/a.ts'));
    assert.ok(compilePathGlob('src/')('src/x/y.ts'));
    assert.ok(compilePathGlob('src/*.ts')('src/a.ts'));
    assert.ok(!compilePathGlob('src/*.ts')('src/x/a.ts'));
    assert.ok(compilePathGlob('**/*.md')('README.md'));
    assert.ok(compilePathGlob('**/*.md')('docs/a/b.md'));
    assert.ok(compilePathGlob('./secrets/**')('secrets/key.pem'));
    assert.ok(compilePathGlob('src/**/test/*.ts')('src/test/a.ts'));
    assert.ok(compilePathGlob('src/**/test/*.ts')('src/a/b/test/a.ts'));
    assert.ok(!compilePathGlob('src/**/test/*.ts')('src/a/b/test/x/a.ts'));
  });
});

describe('AccessControl', () => {
  const policy = {
    default: 'allow' as const,
    rules: [
      {
        agent: 'reviewer-*',
        tools: { allow: ['coordinator__*', 'fs__read*'], deny: ['coordinator__lock_file'] },
        files: { deny: ['secrets/**'] },
        events: { publish: ['task:*'] },
      },
      { agent: 'reviewer-*', tools: { deny: ['*'] } }, // never reached: the first match decides
      { agent: 'bot-*', files: { allow: ['docs/**'] } },
    ],
  };
  const access = new AccessControl(policy);

  it('no rule matches: allowed by default', () => {
    assert.equal(access.check('builder', 'tool', ['fs__write']), undefined);
    assert.equal(access.check('builder', 'file', ['secrets/x']), undefined);
  });

  it('the first matching rule decides; deny wins over allow; an allow list admits only what it names', () => {
    assert.equal(access.check('reviewer-1', 'tool', ['fs__read_file']), undefined);
    assert.equal(access.check('reviewer-1', 'tool', ['coordinator__list_tasks']), undefined);
    const denied = access.check('reviewer-1', 'tool', ['coordinator__lock_file']);
    assert.deepEqual(denied?.rule, { index: 0, agent: 'reviewer-*' });
    assert.match(denied?.reason ?? '', /denied by "coordinator__lock_file"/);
    assert.match(denied?.message ?? '', /rule #0 \(agent "reviewer-\*"\)/);
    const notAllowed = access.check('reviewer-1', 'tool', ['fs__write']);
    assert.match(notAllowed?.reason ?? '', /not among the allowed/);
  });

  it('a rule silent on a kind allows it', () => {
    assert.equal(access.check('bot-1', 'tool', ['fs__write']), undefined);
    assert.equal(access.check('bot-1', 'event', ['state:changed']), undefined);
  });

  it('files and events', () => {
    assert.equal(access.check('reviewer-1', 'file', ['src/a.ts']), undefined);
    assert.equal(access.check('reviewer-1', 'file', ['src/a.ts', 'secrets/k'])?.subject, 'secrets/k');
    assert.equal(access.check('bot-1', 'file', ['docs/a.md']), undefined);
    assert.equal(access.check('bot-1', 'file', ['src/a.ts'])?.rule.index, 2);
    assert.equal(access.check('reviewer-1', 'event', ['task:progress']), undefined);
    assert.equal(access.check('reviewer-1', 'event', ['state:changed'])?.kind, 'event');
  });

  it('default deny refuses an agent no rule matches, naming the default', () => {
    const strict = new AccessControl({ default: 'deny', rules: [{ agent: 'ok-*' }] });
    assert.equal(strict.check('ok-1', 'tool', ['anything']), undefined);
    const denied = strict.check('other', 'tool', ['anything']);
    assert.equal(denied?.rule.index, -1);
    assert.match(denied?.message ?? '', /default of coordination.access/);
  });

  it('without rules it is inactive; enforce publishes access:denied as the refused agent', async () => {
    assert.equal(new AccessControl(undefined).active, false);
    const bus = new MemoryBus({ source: 'test', agentId: 'coordinator' });
    const seen: Array<{ type: string; agentId: string; data: unknown }> = [];
    bus.subscribe((e) => seen.push(e), 'access:*');
    const enforced = new AccessControl(policy, bus);
    assert.ok(enforced.enforce('reviewer-2', 'file', ['secrets/a']));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.type, 'access:denied');
    assert.equal(seen[0]?.agentId, 'reviewer-2');
    assert.deepEqual((seen[0]?.data as { rule: unknown }).rule, { index: 0, agent: 'reviewer-*' });
    await bus.close();
  });
});
