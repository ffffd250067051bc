/**
 * `servers`: the configured servers as the file states them, plus the era a server last spoke
 * (from the warm catalog, when one is kept) — nothing is started.
 */
import { catalogCacheDir } from '../catalog/cache-location.js';
import { homedir } from 'node:os';
import { defaultCacheKeyFile, loadCacheKey } from '../catalog/cache-key.js';
import { CatalogDiskCache } from '../catalog/disk-cache.js';
import { isStdio, type LoadedConfig } from '../config/index.js';
import { silentLogger } from '../shared/logger.js';
import { printJson, printTable } from './output.js';

export interface ServerRow {
  id: string;
  transport: 'stdio' | 'streamable-http' | 'sse';
  /** The pinned protocol, else the era seen last (warm catalog), else "auto". */
  era: string;
  enabled: boolean;
  group: string | null;
  /** The command line or URL. */
  target: string;
}

export async function runServers(loaded: LoadedConfig, json: boolean): Promise<number> {
  const dir = catalogCacheDir(loaded.config.cacheDir, loaded.file);
  const key =
    dir === undefined
      ? undefined
      : await loadCacheKey(defaultCacheKeyFile(homedir(), process.env.XDG_CONFIG_HOME), silentLogger);
  const cache =
    dir === undefined || !key ? undefined : new CatalogDiskCache({ dir, logger: silentLogger, key });
  await cache?.load();
  const rows: ServerRow[] = Object.entries(loaded.config.servers).map(([id, server]) => ({
    id,
    transport: isStdio(server) ? 'stdio' : server.transport,
    era: server.protocol !== 'auto' ? server.protocol : (cache?.get(id, server)?.era ?? 'auto'),
    enabled: server.enabled,
    group: server.group ?? null,
    target: isStdio(server) ? [server.command, ...server.args].join(' ') : server.url,
  }));
  if (json) printJson(rows);
  else {
    printTable(
      ['ID', 'TRANSPORT', 'ERA', 'ENABLED', 'GROUP', 'COMMAND / URL'],
      rows.map((r) => [r.id, r.transport, r.era, r.enabled ? 'yes' : 'no', r.group ?? '-', r.target]),
    );
  }
  return 0;
}
