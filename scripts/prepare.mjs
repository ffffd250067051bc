#!/usr/bin/env node
/* global process */
/**
 * `prepare`: build dist/ in a clone. npm runs it on `npm install` in a clone, on `npm pack`, on
 * `npm install -g .`, and when it installs the package from a git URL.
 *
 * A global install from a git URL (`npm install -g git+https://…`) prepares its clone with the
 * global install's configuration leaked into it (npm/cli#8440): npm then "installs" the clone into
 * the global prefix as a link, instead of installing the clone's build tools, so the build finds
 * no `tsc`, and the link points at a clone npm deletes once it has packed it. So here:
 * - only when this folder is such a clone (inside npm's cache), a link from the global prefix to
 *   it is undone, and what npm moved aside for it (the folder the outer install is filling, with
 *   the dependencies) is put back, so the package is unpacked into a real folder of its own;
 * - when the build tools are missing, they are installed into this folder first, with that
 *   configuration taken out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const windows = process.platform === 'win32';

function npm(args, env = process.env) {
  const result = spawnSync(windows ? 'npm.cmd' : 'npm', args, {
    cwd: root,
    env,
    stdio: 'inherit',
    shell: windows,
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function undoLeakedGlobalLink() {
  const prefix = process.env.npm_config_prefix;
  if (process.env.npm_config_global !== 'true' || !prefix) return;
  // `npm install -g .` links the global package to a clone on purpose: only npm's own
  // temporary git clones are undone.
  const here = realpathSync(root);
  if (!/[\\/]_cacache[\\/]tmp[\\/]git-clone[^\\/]*$/.test(here)) return;
  const name = process.env.npm_package_name || 'mcp-coordinator';
  const modules = windows ? join(prefix, 'node_modules') : join(prefix, 'lib', 'node_modules');
  const link = join(modules, name);
  try {
    if (!lstatSync(link).isSymbolicLink() || realpathSync(link) !== here) return;
  } catch {
    return; // nothing there
  }
  unlinkSync(link);
  const aside = readdirSync(modules).filter((entry) => entry.startsWith(`.${name}-`));
  if (aside.length === 1) renameSync(join(modules, aside[0]), link);
  else mkdirSync(link);
}

undoLeakedGlobalLink();
if (!existsSync(join(root, 'node_modules', 'typescript', 'package.json'))) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(global|location|prefix|omit|include|only|production)$/i.test(key)) delete env[key];
  }
  process.stderr.write('mcp-coordinator: installing the build tools into this folder first\n');
  npm(['install', '--include=dev', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund'], env);
}
npm(['run', 'build']);
