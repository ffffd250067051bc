/**
 * The package version, read from the package.json the running code belongs to: `dist/main.js`
 * (and its chunks) and `src/cli/*.ts` find it by walking up from their own folder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(from = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mcp-coordinator' && pkg.version) return pkg.version;
    } catch {
      // not here: one folder up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
