/**
 * The only place transports are constructed. Everything above sees a `Transport`; nothing else
 * knows that stdio means a child process and a remote server means fetch.
 */
import type { Transport } from '@modelcontextprotocol/client';
import { isStdio, type ServerConfig, type StdioServerConfig } from '../config/schema.js';
import type { ChildGroups } from './child-groups.js';
import { ChildProcessTransport, type StdioTimings } from './stdio-transport.js';
import type { TransportKind } from './types.js';

export interface TransportContext {
  serverId: string;
  /** Where a stdio child's process group is recorded until it is gone. */
  groups: ChildGroups;
  /** Each line the child writes on stderr (the app prefixes it with the id). */
  onStderrLine: (line: string) => void;
  stdioTimings?: Partial<StdioTimings>;
}

export function transportKind(config: ServerConfig): TransportKind {
  return isStdio(config) ? 'stdio' : config.transport;
}

/**
 * A fresh, unstarted transport: one per connection attempt (SDK transports cannot restart).
 * Remote ones come from `remote.ts`, loaded on first use.
 */
export function createTransport(
  config: ServerConfig,
  context: TransportContext,
): Transport | Promise<Transport> {
  if (isStdio(config)) return createStdioTransport(config, context);
  return import('./remote.js').then((remote) =>
    remote.createRemoteTransport(config, { serverId: context.serverId }),
  );
}

export function createStdioTransport(
  config: StdioServerConfig,
  context: TransportContext,
): ChildProcessTransport {
  return new ChildProcessTransport({
    serverId: context.serverId,
    command: config.command,
    args: config.args,
    env: config.env,
    inheritEnv: config.inheritEnv,
    cwd: config.cwd,
    onStderrLine: context.onStderrLine,
    groups: context.groups,
    timings: context.stdioTimings,
  });
}
