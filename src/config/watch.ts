/**
 * Live config: watch the config file and hand every valid new version to the app.
 *
 * The file's folder is watched, not the file: editors save by writing a temp file and renaming
 * it over the original, which ends a watch on the file itself. Bursts of events (write, rename,
 * chmod) are debounced into one reload through `loadConfig`, the same validation as at start-up.
 * An invalid edit goes to `onError` and changes nothing: the app keeps running what it has.
 * Reloads never overlap: an async `onChange` is awaited before the next reload begins.
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Env } from './expand.js';
import { loadConfig } from './load.js';
import type { Config } from './schema.js';

export interface WatchConfigOptions {
  onChange(config: Config): void | Promise<void>;
  onError(error: ConfigError): void;
  env: Env;
  logger: Logger;
  debounceMs?: number;
  /** The config now running: a save that changes nothing is then not reported. */
  current?: Config;
}

export interface ConfigWatcher {
  close(): void;
}

export interface ServerDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export function watchConfig(file: string, options: WatchConfigOptions): ConfigWatcher {
  const absolute = path.resolve(file);
  const base = path.basename(absolute);
  const debounceMs = options.debounceMs ?? 200;
  const logger = options.logger;
  let last = options.current;
  /** After a failed reload the next valid one is always reported, so the app can clear its error. */
  let failed = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let loading = false;
  let again = false;

  const reload = async (): Promise<void> => {
    if (closed) return;
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const { config } = await loadConfig(absolute, options.env);
      if (closed) return;
      if (!failed && last !== undefined && isDeepStrictEqual(last, config)) {
        logger.debug(`${absolute} saved without changes`);
        return;
      }
      last = config;
      failed = false;
      await options.onChange(config);
    } catch (error) {
      if (closed) return;
      if (error instanceof ConfigError) {
        failed = true;
        options.onError(error);
      } else {
        logger.error('config reload failed', { error });
      }
    } finally {
      loading = false;
      if (again && !closed) {
        again = false;
        void reload();
      }
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
    timer.unref();
  };

  let watcher: FSWatcher;
  try {
    // persistent: false — watching must never keep a coordinator alive whose client has gone.
    watcher = watch(path.dirname(absolute), { persistent: false }, (_event, name) => {
      // Some platforms omit the name; then any change in the folder may be ours.
      if (name === null || name === base) schedule();
    });
  } catch (error) {
    logger.warn(`cannot watch ${absolute}; live config reload is off`, { error });
    return { close: () => {} };
  }
  watcher.on('error', (error) => logger.warn(`watching ${absolute} stopped`, { error }));

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/**
 * Which servers a reload adds, removes or changes (any key differs), so only those restart.
 * A disabled server counts as absent: enabling one adds it, disabling one removes it.
 */
export function diffServers(prev: Config, next: Config): ServerDiff {
  const before = enabledServers(prev);
  const after = enabledServers(next);
  return {
    added: [...after.keys()].filter((id) => !before.has(id)),
    removed: [...before.keys()].filter((id) => !after.has(id)),
    changed: [...after.keys()].filter(
      (id) => before.has(id) && !isDeepStrictEqual(before.get(id), after.get(id)),
    ),
  };
}

function enabledServers(config: Config): Map<string, Config['servers'][string]> {
  return new Map(Object.entries(config.servers).filter(([, server]) => server.enabled));
}
