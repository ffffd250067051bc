/**
 * Lock keys are file paths, so two agents naming one file differently (`src/a.ts`,
 * `./src/x/../a.ts`, `/repo/src/a.ts`) must end up with the same key or they would both get a
 * lock. Every path is made relative to the workspace root and written with `/` separators.
 *
 * Purely lexical on purpose: no filesystem access, so symlinks are not resolved and case is kept
 * (the file may not exist yet, and coordinators on other hosts see other filesystems).
 */
import path from 'node:path';

import { InvalidArgumentError } from '../shared/errors.js';

export function normalizeLockPath(file: string, workspaceRoot: string): string {
  if (typeof file !== 'string' || file.trim() === '') {
    throw new InvalidArgumentError('file: expected a non-empty path');
  }
  if (file.includes('\0'))
    throw new InvalidArgumentError(`file: path contains a NUL byte: ${JSON.stringify(file)}`);
  const root = path.resolve(workspaceRoot);
  // resolve() collapses `.` and `..`, and keeps an absolute input as it is.
  const relative = path.relative(root, path.resolve(root, file));
  if (relative === '') {
    throw new InvalidArgumentError(`file: ${JSON.stringify(file)} names the workspace root, not a file`);
  }
  const parts = relative.split(path.sep);
  // A different drive on Windows gives an absolute "relative" path; `..` leaves the root.
  if (parts[0] === '..' || path.isAbsolute(relative)) {
    throw new InvalidArgumentError(`file: ${JSON.stringify(file)} is outside the workspace root ${root}`);
  }
  return parts.join('/');
}
