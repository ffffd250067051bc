/**
 * The two adapters from the parsed config to the catalog's inputs, so the composition root does
 * not restate which config key means what.
 */
import type { Config, ServerConfig } from '../config/schema.js';
import type { DownstreamSnapshot } from '../downstream/types.js';
import type { NamespaceOptions } from './naming.js';
import type { CatalogSource } from './types.js';

export function catalogSource(
  serverId: string,
  server: ServerConfig,
  snapshot: DownstreamSnapshot,
): CatalogSource {
  return {
    serverId,
    snapshot,
    ...(server.prefix === undefined ? {} : { prefix: server.prefix }),
    ...(server.group === undefined ? {} : { group: server.group }),
    ...(server.tools === undefined ? {} : { filter: server.tools }),
  };
}

export function namespaceOptions(namespace: Config['namespace']): NamespaceOptions {
  return { separator: namespace.separator, maxLength: namespace.maxNameLength };
}
