/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance) against the coordinator's
 * own HTTP face, through `scripts/conformance.mjs` (what `npm run conformance` runs after a build):
 * every server scenario of both revisions it knows passes, except the few listed with their reasons
 * in test/conformance/known-failures.yml (none of which the revisions' requirement sets score).
 * About 20 s.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir } from '../helpers/coordinator.js';

interface Row {
  revision: string;
  scenario: string;
  scored: boolean;
  verdict: 'pass' | 'FAIL' | 'known' | 'stale' | 'skipped' | 'not run';
  failures: { id: string; error: string }[];
}

test('conformance: every server scenario of 2025-11-25 and 2026-07-28 passes against serve --http', () => {
  const dir = tempDir('mcp-coord-conformance-');
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts/conformance.mjs'), '--out', dir.path], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 110_000,
    });
    const { results } = JSON.parse(readFileSync(join(dir.path, 'results.json'), 'utf8')) as {
      results: Row[];
    };
    const bad = results.filter((r) => !['pass', 'known', 'skipped'].includes(r.verdict));
    assert.deepEqual(
      bad.map((r) => `${r.revision} ${r.scenario}: ${r.verdict} ${r.failures.map((f) => f.id).join(', ')}`),
      [],
      run.stdout,
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    for (const revision of ['2025-11-25', '2026-07-28']) {
      const scored = results.filter((r) => r.revision === revision && r.scored);
      assert.ok(scored.length >= 30, `${revision}: ${scored.length} scored scenarios ran`);
      assert.deepEqual(
        scored.filter((r) => r.verdict !== 'pass').map((r) => r.scenario),
        [],
        `${revision}: every scenario the requirement set scores passes`,
      );
    }
  } finally {
    dir.remove();
  }
});
