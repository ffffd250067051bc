/**
 * Where the warm catalog lives: `cacheDir` when set ("" disables it), else `.coordinator-cache`
 * beside the config file, so a fresh folder always starts cold. Configs in one folder share the
 * file; an entry only counts for a server whose command, args, env, url … are unchanged.
 * Its own module because `serve` asks before the rest of the coordinator is loaded.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const CATALOG_CACHE_FILE = 'catalog-cache.json';

export function catalogCacheDir(cacheDir: string | undefined, configFile: string): string | undefined {
  if (cacheDir === '') return undefined;
  return cacheDir ?? join(dirname(configFile), '.coordinator-cache');
}

/** A catalog was saved by an earlier run (its entries are checked only when the app loads). */
export function hasWarmCatalog(cacheDir: string | undefined, configFile: string): boolean {
  const dir = catalogCacheDir(cacheDir, configFile);
  return dir !== undefined && existsSync(join(dir, CATALOG_CACHE_FILE));
}
