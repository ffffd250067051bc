/* global process, URL */
/**
 * `prepare`: build dist/. npm runs it for `npm install` in a clone, `npm install -g .`, `npm pack`
 * and publish, and for git URLs. `npm install -g <git url>` runs it without the devDependencies
 * (npm/cli#8440: the git clone is prepared as a global install, so typescript and esbuild are
 * missing): then they are installed here first, locally, before the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function npm(args, env = process.env) {
  // The npm that runs this script, else the one on PATH.
  const [command, prefix] = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const result = spawnSync(command, [...prefix, ...args], { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(new URL('../node_modules/typescript/package.json', import.meta.url))) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_config_(global|location|prefix)$/i.test(key)),
  );
  process.stderr.write('mcp-coordinator prepare: installing the build tools (devDependencies) first\n');
  npm(['install', '--no-save', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund'], env);
}
npm(['run', 'build']);
