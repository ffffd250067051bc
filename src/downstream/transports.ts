/**
 * The only place transports are constructed. Everything above sees a `Transport`; nothing else
 * knows that stdio means a child process and a remote server means fetch.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isStdio, type ServerConfig } from '../config/schema.js';
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

/** A fresh, unstarted transport: one per connection attempt (SDK transports cannot restart). */
export function createTransport(config: ServerConfig, context: TransportContext): Transport {
  if (isStdio(config)) {
    return new ChildProcessTransport({
      serverId: context.serverId,
      command: config.command,
      args: config.args,
      env: config.env,
      cwd: config.cwd,
      onStderrLine: context.onStderrLine,
      groups: context.groups,
      timings: context.stdioTimings,
    });
  }
  const url = new URL(config.url);
  const requestInit: RequestInit = { headers: config.headers };
  if (config.transport === 'sse') {
    // In this SDK the SSE transport builds the EventSource's GET headers from requestInit.headers
    // too (its _commonHeaders), so one place carries them for the stream and for every POST.
    return new SSEClientTransport(url, { requestInit });
  }
  return new StreamableHTTPClientTransport(url, { requestInit });
}
