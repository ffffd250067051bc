/**
 * The key that signs the warm catalog. A catalog file is only a hint, but a planted one would be
 * served as the tools of a trusted server (descriptions are prompts to the model), so every entry
 * carries an HMAC under a per-user key kept outside the project folder, owner-only: a file that
 * came with a repository, or was edited, fails the check and is ignored.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';

const KEY_BYTES = 32;

/**
 * Reads the key at `file`, creating it (0600, in a 0700 folder) on first use. A key that others
 * could read or write is not trusted; without a usable key the answer is a fresh one for this
 * process only, so the cache works within the run and never trusts a file from before.
 */
export async function loadCacheKey(file: string, logger: Logger): Promise<Buffer> {
  try {
    return await readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn(`catalog cache key ${file} not usable; the warm catalog lasts this run only`, { error });
      return randomBytes(KEY_BYTES);
    }
  }
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(randomBytes(KEY_BYTES).toString('hex'));
    } finally {
      await handle.close();
    }
    return await readKey(file);
  } catch (error) {
    // EEXIST: another coordinator created it first; read theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadCacheKey(file, logger);
    logger.warn(`catalog cache key ${file} not created; the warm catalog lasts this run only`, { error });
    return randomBytes(KEY_BYTES);
  }
}

async function readKey(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    assertOwnerOnly(await handle.stat(), file);
    const key = Buffer.from((await handle.readFile('utf8')).trim(), 'hex');
    if (key.length < KEY_BYTES) throw new Error(`${file} holds no key`);
    return key;
  } finally {
    await handle.close();
  }
}

/** Throws unless the file is a regular file of this user that nobody else may read or write. */
export function assertOwnerOnly(stat: { mode: number; uid: number; isFile(): boolean }, file: string): void {
  if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
  if (process.platform === 'win32') return; // POSIX modes do not apply; ACLs are the user's profile's
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${file} belongs to another user`);
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`${file} is readable or writable by others (mode ${(stat.mode & 0o777).toString(8)})`);
  }
}

/** ~/.config/mcp-coordinator/catalog-cache.key (or under $XDG_CONFIG_HOME). */
export function defaultCacheKeyFile(home: string, xdgConfigHome: string | undefined): string {
  return path.join(xdgConfigHome || path.join(home, '.config'), 'mcp-coordinator', 'catalog-cache.key');
}
