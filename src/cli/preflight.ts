/**
 * What `check` can tell without starting anything: a stdio server whose command is not on PATH
 * (or not at the path given), or a node script that does not exist — the two ways a config that
 * validates still leaves a server down (MODULE_NOT_FOUND shows only in a stack trace at start).
 * Warnings, not errors: the file is valid, and the command may exist where the coordinator runs.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { isStdio, type Config } from '../config/index.js';

const SCRIPT = /\.(?:c|m)?js$/;

export function commandWarnings(config: Config, env: NodeJS.ProcessEnv): string[] {
  const warnings: string[] = [];
  for (const [id, server] of Object.entries(config.servers)) {
    if (!server.enabled || !isStdio(server)) continue;
    const cwd = server.cwd ?? process.cwd();
    const found = findCommand(server.command, cwd, server.env.PATH ?? env.PATH ?? '');
    if (!found) {
      warnings.push(
        `servers.${id}.command: "${server.command}" is not found ${server.command.includes('/') ? `(relative to ${cwd})` : 'on PATH'}; the server will not start`,
      );
      continue;
    }
    const isNode = /^node(?:\.exe)?$/.test(path.basename(found));
    const script = server.args.find((arg) => !arg.startsWith('-'));
    if (isNode && script && SCRIPT.test(script) && !isFile(path.resolve(cwd, script))) {
      warnings.push(
        `servers.${id}.args: ${script} does not exist (relative to ${cwd}); node will fail with MODULE_NOT_FOUND`,
      );
    }
  }
  return warnings;
}

function findCommand(command: string, cwd: string, searchPath: string): string | undefined {
  if (command.includes('/') || command.includes('\\')) {
    const file = path.resolve(cwd, command);
    return isExecutable(file) ? file : undefined;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  if (!isFile(file)) return false;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
