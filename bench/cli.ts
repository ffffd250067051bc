/**
 * Issue 10's speed figures for the command line, as a benchmark (never a timed test):
 * `--version` and a usage error (targets ≤ 150 ms), and `call` of one tool in a config of 10
 * servers against the same call with only its server configured (target ≤ 1.2×).
 *
 *   npm run build && node --import tsx bench/cli.ts [--runs N]
 *
 * Prints a markdown table of medians (min–max) on stdout; wall time of the whole process, as a
 * user's shell sees it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIXTURE, MAIN } from '../test/helpers/coordinator.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));

function config(name: string, servers: number): string {
  const entries = Array.from(
    { length: servers },
    (_, i) => `  s${i}: { command: '${process.execPath}', args: ['${FIXTURE}', --name, s${i}] }`,
  );
  const file = join(dir, name);
  writeFileSync(file, `cacheDir: ''\nservers:\n${entries.join('\n')}\n`);
  return file;
}

function time(args: string[], expectStatus: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== expectStatus) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    if (i > 0) samples.push(ms); // the first run warms the page cache
  }
  return samples.sort((a, b) => a - b);
}

const median = (s: number[]) => s[Math.floor(s.length / 2)]!;
const fmt = (s: number[]) => `${median(s).toFixed(0)} ms (${s[0]!.toFixed(0)}–${s.at(-1)!.toFixed(0)})`;

try {
  const one = config('one.yml', 1);
  const ten = config('ten.yml', 10);
  const rows: Array<[string, number[]]> = [
    ['--version', time(['--version'], 0)],
    ['usage error (call with bad --args)', time(['call', 's0__echo', '--args', '{bad', '--config', ten], 2)],
    ['unknown tool (did you mean)', time(['call', 's00__echo', '--config', ten], 2)],
    [
      'call s0__echo, 1 server configured',
      time(['call', 's0__echo', '--args', '{"text":"x"}', '--config', one], 0),
    ],
    [
      'call s0__echo, 10 servers configured',
      time(['call', 's0__echo', '--args', '{"text":"x"}', '--config', ten], 0),
    ],
  ];
  process.stdout.write(`| command | median (min–max), ${runs} runs |\n| --- | --- |\n`);
  for (const [name, samples] of rows) process.stdout.write(`| ${name} | ${fmt(samples)} |\n`);
  const ratio = median(rows[4]![1]) / median(rows[3]![1]);
  process.stdout.write(`\ncall with 10 servers / with 1: ${ratio.toFixed(2)}× (target ≤ 1.2×)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
