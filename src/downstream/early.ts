/**
 * The children of the eager stdio servers, spawned at process start, before the rest of the
 * coordinator is even loaded: a server's runtime (node, python, npx …) boots while the
 * coordinator loads its modules and handshakes with its client, instead of after. On 2 cores,
 * loading the coordinator takes 0.3–0.7 s; ten servers booting take 2–3 s.
 *
 * Nothing is sent to a child here. The pool adopts each one as the first transport of its
 * server, and its MCP session starts, as always, once the upstream client is initialized: the
 * `initialize` it gets must carry the capabilities that client declared.
 */
import type { Transport } from '@modelcontextprotocol/client';
import { isStdio, type ServerConfig } from '../config/schema.js';
import { ChildGroups } from './child-groups.js';
import type { ChildProcessTransport, StdioTimings } from './stdio-transport.js';
import { createStdioTransport } from './transports.js';

/** Stderr lines kept per child until it is adopted; a server that says more is cut short. */
const HELD_LINES = 200;

interface Early {
  readonly config: ServerConfig;
  readonly transport: ChildProcessTransport;
  held: string[];
  dropped: number;
  sink?: (line: string) => void;
}

export class EarlyChildren {
  /** The process groups of every child spawned here, adopted or not. */
  readonly groups = new ChildGroups();
  private readonly waiting = new Map<string, Early>();

  /** Spawns a child for every enabled eager stdio server; never waits for any of them. */
  static spawn(
    servers: Readonly<Record<string, ServerConfig>>,
    options: { stdioTimings?: Partial<StdioTimings> } = {},
  ): EarlyChildren {
    const early = new EarlyChildren();
    for (const [id, config] of Object.entries(servers)) {
      if (config.enabled && config.startup === 'eager' && isStdio(config)) early.add(id, config, options);
    }
    return early;
  }

  get size(): number {
    return this.waiting.size;
  }

  /**
   * The child spawned for `id`, if it was spawned for this very config (a reload since gives a
   * fresh one), once. Its stderr goes to `onStderrLine` from now on, what it said so far first.
   */
  take(id: string, config: ServerConfig, onStderrLine: (line: string) => void): Transport | undefined {
    const early = this.waiting.get(id);
    if (!early || early.config !== config) return undefined;
    this.waiting.delete(id);
    early.sink = onStderrLine;
    for (const line of early.held) onStderrLine(line);
    if (early.dropped > 0) onStderrLine(`(${early.dropped} more stderr lines before start not shown)`);
    early.held = [];
    return early.transport;
  }

  /** Stops every child nobody took; resolves once they are gone. */
  async closeRest(): Promise<void> {
    const rest = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(rest.map((early) => early.transport.close()));
  }

  /** SIGKILL every group spawned here (adopted ones too); for `process.on('exit')`. */
  killAllSync(): void {
    this.groups.killAllSync();
  }

  private add(id: string, config: ServerConfig, options: { stdioTimings?: Partial<StdioTimings> }): void {
    if (!isStdio(config)) return;
    const early: Early = {
      config,
      held: [],
      dropped: 0,
      transport: createStdioTransport(config, {
        serverId: id,
        groups: this.groups,
        onStderrLine: (line) => {
          if (early.sink) early.sink(line);
          else if (early.held.length < HELD_LINES) early.held.push(line);
          else early.dropped++;
        },
        stdioTimings: options.stdioTimings,
      }),
    };
    // A failure (missing command …) is given again to the first attempt, which reports it.
    early.transport.prespawn().catch(() => {});
    this.waiting.set(id, early);
  }
}
