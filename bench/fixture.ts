/**
 * The one downstream of every measurement: test/fixtures/tool-server.mjs, N copies, each with
 * `--tools K` synthetic tools. This module names them and writes the config files each
 * contestant reads (Claude Desktop JSON for the naive proxy and mcp-hub, servers.yml for ours).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE = join(REPO_ROOT, 'test/fixtures/tool-server.mjs');
/** The same echo/sleep tools written against the v2 SDK, serving 2026-07-28 only. */
export const MODERN_FIXTURE = join(REPO_ROOT, 'test/fixtures/modern-server.mjs');
/** The fixture's own tools (echo, sleep, …) before the synthetic tool_0..tool_K-1. */
export const FIXTURE_BASE_TOOLS = [
  'echo',
  'sleep',
  'whoami',
  'fail',
  'crash',
  'hang',
  'add_tool',
  'progress',
];
/** Downstreams are spawned with the `node` on PATH, as a user's config would say. */
export const DOWNSTREAM_COMMAND = 'node';

/**
 * With the kernel's scheduler autogroups on, a process that starts its own session gets its own
 * CPU share: on a busy machine, servers spawned detached start about twice as fast. The
 * coordinator spawns its servers detached (to kill process groups); so that only the hop is
 * compared, every other contestant's servers are started in their own session too, through
 * `setsid` (no fork: a child of node is not a group leader, so the pid stays the server's).
 */
export const OWN_SESSION: boolean = (() => {
  try {
    const on = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
    return on && ['/usr/bin/setsid', '/bin/setsid'].some((p) => existsSync(p));
  } catch {
    return false;
  }
})();

/** How direct, naive and peers launch one fixture (the coordinator detaches by itself). */
export function downstreamLaunch(spec: ServerSpec): { command: string; args: string[] } {
  return OWN_SESSION
    ? { command: 'setsid', args: [DOWNSTREAM_COMMAND, ...fixtureArgs(spec)] }
    : { command: DOWNSTREAM_COMMAND, args: fixtureArgs(spec) };
}

export interface ServerSpec {
  /** Server id: the namespace prefix for every aggregator (`<id>__<tool>`). */
  readonly id: string;
  /** Synthetic tools on top of the fixture's own. */
  readonly tools: number;
}

export function fixtureArgs(spec: ServerSpec): string[] {
  return [FIXTURE, '--name', spec.id, '--tools', String(spec.tools)];
}

/** `count` servers s0..s{count-1}, each with `tools` synthetic tools; one server is named "fx". */
export function servers(count: number, tools: number): ServerSpec[] {
  if (count === 1) return [{ id: 'fx', tools }];
  return Array.from({ length: count }, (_, i) => ({ id: `s${i}`, tools }));
}

/** Every downstream tool name as an aggregator exposes it: `<id>__<tool>`. */
export function expectedNames(specs: readonly ServerSpec[]): Set<string> {
  const names = new Set<string>();
  for (const spec of specs) {
    for (const t of FIXTURE_BASE_TOOLS) names.add(`${spec.id}__${t}`);
    for (let i = 0; i < spec.tools; i++) names.add(`${spec.id}__tool_${i}`);
  }
  return names;
}

/** `{ "mcpServers": { … } }`, the format of Claude Desktop, the naive proxy and mcp-hub. */
export function writeClaudeConfig(dir: string, specs: readonly ServerSpec[]): string {
  const mcpServers = Object.fromEntries(specs.map((s) => [s.id, downstreamLaunch(s)]));
  const file = join(dir, 'mcp-servers.json');
  writeFileSync(file, JSON.stringify({ mcpServers }, null, 2));
  return file;
}

/** servers.yml for the coordinator: `command: node`, stdio servers only, no Redis (embedded bus). */
export function writeServersYml(dir: string, specs: readonly ServerSpec[]): string {
  const lines = ['servers:'];
  for (const s of specs) {
    lines.push(
      `  ${s.id}:`,
      `    command: ${DOWNSTREAM_COMMAND}`,
      `    args: ${JSON.stringify(fixtureArgs(s))}`,
    );
  }
  const file = join(dir, 'servers.yml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
