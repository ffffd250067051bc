#!/usr/bin/env node
/* global process, console, fetch, setTimeout, clearTimeout */
// `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance, its
// server scenarios) against the coordinator's own HTTP face, no bridge in between.
//
// Starts the BUILT coordinator (`dist/main.js serve --http 127.0.0.1:0`) on test/conformance/servers.yml
// (the conformance fixture under `prefix: ""`), waits until it serves the fixture's tools, then runs
// the suite once per spec revision with `--requirements REVISION` — exactly what conforming to that
// revision requires, at that revision's wire (2025-11-25: stateful initialize handshake; 2026-07-28:
// stateless, per-request _meta), plus the suite's not-scored scenarios for visibility. Prints one
// table, writes every check to results/conformance/results.json, stops the coordinator, and exits 1
// if any scenario failed (scored or not) that test/conformance/known-failures.yml does not list with
// its reason, or if a listed one passed (a stale entry); 0 otherwise.
//
// Flags: --revision R (repeatable; default both)  --scenario NAME (repeatable; only these)
//        --out DIR (default results/conformance)  --verbose (the suite's own output on stderr)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUITE_DIR = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance');
const SUITE_BIN = path.join(SUITE_DIR, 'dist/index.js');
const NODE20_SHIM = path.join(ROOT, 'scripts/conformance/node20.mjs');
const CONFIG = path.join(ROOT, 'test/conformance/servers.yml');
const KNOWN_FAILURES = path.join(ROOT, 'test/conformance/known-failures.yml');
const REVISIONS = ['2025-11-25', '2026-07-28'];
const START_TIMEOUT_MS = 20_000;

function options(argv) {
  const out = { revisions: [], scenarios: [], dir: path.join(ROOT, 'results/conformance'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--revision') out.revisions.push(argv[++i]);
    else if (arg === '--scenario') out.scenarios.push(argv[++i]);
    else if (arg === '--out') out.dir = path.resolve(argv[++i]);
    else if (arg === '--verbose') out.verbose = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (out.revisions.length === 0) out.revisions = REVISIONS;
  for (const r of out.revisions) if (!REVISIONS.includes(r)) throw new Error(`unknown revision ${r}`);
  return out;
}

/** The coordinator on an ephemeral loopback port; resolves with its base URL and a stop(). */
function startCoordinator() {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/main.js'), 'serve', '--http', '127.0.0.1:0', '--config', CONFIG],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  };
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`coordinator not listening after ${START_TIMEOUT_MS} ms:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /mcp-coordinator: listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
    void exited.then((code) =>
      reject(new Error(`coordinator exited (${code}) before listening:\n${stderr}`)),
    );
  });
  return listening.then((url) => ({ url, stop, stderr: () => stderr }));
}

/** Until the catalog has the fixture's tools (the downstream starts in the background). */
async function waitForCatalog(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/api/tools`);
      if (res.ok && (await res.text()).includes('test_simple_text')) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("the fixture's tools never appeared in /api/tools");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function runSuite(args, verbose) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', NODE20_SHIM, SUITE_BIN, 'server', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const take = (chunk) => {
      log += chunk;
      if (verbose) process.stderr.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code) => resolve({ code, log }));
  });
}

/** scenario → checks, from the suite's `-o DIR` layout (`server-<scenario>-<timestamp>/checks.json`). */
function readChecks(dir, scenarios) {
  const byScenario = new Map();
  for (const entry of readdirSync(dir)) {
    const scenario = [...scenarios]
      .sort((a, b) => b.length - a.length)
      .find((s) => entry.startsWith(`server-${s}-`));
    if (scenario === undefined) continue;
    byScenario.set(scenario, JSON.parse(readFileSync(path.join(dir, entry, 'checks.json'), 'utf8')));
  }
  return byScenario;
}

function requirementSet(revision) {
  const doc = parse(readFileSync(path.join(SUITE_DIR, 'requirements', `${revision}.yaml`), 'utf8'));
  const notScored = (doc.not_scored ?? []).filter((e) => e.leg === 'server');
  return {
    scored: doc.server ?? [],
    notScored: new Map(notScored.map((e) => [e.scenario, e.reason])),
  };
}

/** revision → entries (`scenario` or `scenario:check-id`) → reason. */
function knownFailures() {
  const doc = parse(readFileSync(KNOWN_FAILURES, 'utf8')) ?? {};
  return new Map(
    Object.entries(doc).map(([revision, entries]) => [revision, new Map(Object.entries(entries ?? {}))]),
  );
}

/**
 * pass | FAIL | known (every failing check is listed, or the whole scenario) | stale (listed, but
 * passed) | skipped (the suite skipped every check itself) | not run.
 */
function judge(row, known) {
  const listed = known.get(row.revision) ?? new Map();
  const whole = listed.has(row.scenario);
  const checks = [...listed.keys()]
    .filter((k) => k.startsWith(`${row.scenario}:`))
    .map((k) => k.slice(row.scenario.length + 1));
  if (row.status === 'not run' || row.status === 'skipped') return row.status;
  if (row.status === 'pass') return whole || checks.length > 0 ? 'stale' : 'pass';
  if (whole) return 'known';
  return checks.length > 0 && row.failures.every((f) => checks.includes(f.id)) ? 'known' : 'FAIL';
}

async function runRevision(url, revision, opts) {
  const dir = path.join(opts.dir, revision);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { scored, notScored } = requirementSet(revision);
  let wanted = [...scored, ...notScored.keys()];
  if (opts.scenarios.length > 0) wanted = wanted.filter((s) => opts.scenarios.includes(s));
  const base = ['--url', `${url}/mcp`, '-o', dir];
  // One run for the whole set when nothing is singled out; otherwise one run per scenario, forced to
  // this revision's wire (what --requirements does for its own set).
  const logs = [];
  if (opts.scenarios.length === 0) {
    logs.push((await runSuite([...base, '--requirements', revision], opts.verbose)).log);
  } else {
    for (const scenario of wanted) {
      const args = [...base, '--scenario', scenario, '--spec-version', revision, '--force'];
      logs.push((await runSuite(args, opts.verbose)).log);
    }
  }
  writeFileSync(path.join(dir, 'suite.log'), logs.join('\n'));
  const checks = readChecks(dir, wanted);
  return wanted.map((scenario) => {
    const list = checks.get(scenario);
    const failures = (list ?? []).filter((c) => c.status === 'FAILURE');
    return {
      revision,
      scenario,
      scored: !notScored.has(scenario),
      reason: notScored.get(scenario),
      status:
        list === undefined
          ? 'not run'
          : failures.length > 0
            ? 'FAIL'
            : list.every((c) => c.status === 'SKIPPED')
              ? 'skipped'
              : 'pass',
      passed: (list ?? []).filter((c) => c.status === 'SUCCESS').length,
      failed: failures.length,
      warnings: (list ?? []).filter((c) => c.status === 'WARNING').length,
      failures: failures.map((c) => ({ id: c.id, error: c.errorMessage ?? c.description })),
      checks: list ?? [],
    };
  });
}

function printTable(rows, revisions) {
  const width = Math.max(...rows.map((r) => r.scenario.length), 8);
  console.log(`${'scenario'.padEnd(width)}  ${revisions.map((r) => r.padEnd(12)).join('')}`);
  const names = [...new Set(rows.map((r) => r.scenario))];
  for (const name of names) {
    const cells = revisions.map((revision) => {
      const row = rows.find((r) => r.scenario === name && r.revision === revision);
      if (!row) return '—'.padEnd(12);
      const mark =
        row.verdict === 'FAIL' || row.verdict === 'known' ? `${row.verdict}(${row.failed})` : row.verdict;
      return `${mark}${row.scored ? '' : '*'}`.padEnd(12);
    });
    console.log(`${name.padEnd(width)}  ${cells.join('')}`);
  }
  console.log(
    '* not scored by the requirement set (extension, pending or added after release); still gated here',
  );
  for (const revision of revisions) {
    const mine = rows.filter((r) => r.revision === revision);
    const ok = mine.filter((r) => r.status === 'pass').length;
    const scored = mine.filter((r) => r.scored);
    const scoredOk = scored.filter((r) => r.status === 'pass').length;
    const known = mine.filter((r) => r.verdict === 'known').length;
    console.log(
      `${revision}: ${ok}/${mine.length} scenarios passed (scored: ${scoredOk}/${scored.length}; known failures: ${known})`,
    );
  }
  for (const row of rows.filter((r) => !['pass', 'known', 'skipped'].includes(r.verdict))) {
    console.log(`\n✗ ${row.revision} ${row.scenario}: ${row.verdict}`);
    if (row.verdict === 'stale')
      console.log('    passes now: remove its entry from test/conformance/known-failures.yml');
    for (const f of row.failures) console.log(`    ${f.id}: ${String(f.error).slice(0, 400)}`);
  }
}

async function main() {
  const opts = options(process.argv.slice(2));
  const started = Date.now();
  const coordinator = await startCoordinator();
  let rows = [];
  try {
    await waitForCatalog(coordinator.url);
    console.log(`coordinator at ${coordinator.url}/mcp`);
    for (const revision of opts.revisions) rows.push(...(await runRevision(coordinator.url, revision, opts)));
  } finally {
    await coordinator.stop();
  }
  const known = knownFailures();
  for (const row of rows) row.verdict = judge(row, known);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  mkdirSync(opts.dir, { recursive: true });
  const file = path.join(opts.dir, 'results.json');
  writeFileSync(
    file,
    JSON.stringify({ url: coordinator.url, seconds: Number(seconds), results: rows }, null, 2),
  );
  printTable(rows, opts.revisions);
  const count = (verdict) => rows.filter((r) => r.verdict === verdict).length;
  const failed = rows.length - count('pass') - count('known') - count('skipped');
  console.log(
    `\nconformance: ${count('pass')} passed, ${failed} failed, ${count('known')} known, ${count('skipped')} skipped by the suite (${seconds} s; checks in ${path.relative(ROOT, file)})`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`conformance: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
