/**
 * Every configured downstream, in config order: started in parallel, stopped together, events
 * re-emitted with the server id, and the process groups of all stdio children in one registry
 * so the app can kill them synchronously at exit.
 */
import { EventEmitter } from 'node:events';
import type { Implementation } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/schema.js';
import { InvalidArgumentError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ChildGroups } from './child-groups.js';
import type { Clock } from '../shared/clock.js';
import { SupervisedDownstream } from './connection.js';
import type { EarlyChildren } from './early.js';
import type { SupervisorTimings } from './retry-policy.js';
import type { StdioTimings } from './stdio-transport.js';
import { createTransport, transportKind } from './transports.js';
import type { Downstream, DownstreamEvents, DownstreamHooks, EraVerdict } from './types.js';

export interface PoolOptions {
  /** Enabled servers only, in config order. */
  servers: ReadonlyArray<readonly [id: string, config: ServerConfig]>;
  hooks: DownstreamHooks;
  logger: Logger;
  /** One line of a stdio child's stderr (the app writes it to stderr prefixed `[<id>] `). */
  stderrSink: (id: string, line: string) => void;
  /** Sent to every downstream in initialize; the app passes its package name and version. */
  clientInfo?: Implementation;
  /** The era verdict kept for a server (the warm catalog's), so its connect needs no probe. */
  priorEra?: (id: string, config: ServerConfig) => EraVerdict | undefined;
  clock?: Clock;
  timings?: Partial<SupervisorTimings>;
  stdioTimings?: Partial<StdioTimings>;
}

export type PoolListener<E extends keyof DownstreamEvents> = (
  id: string,
  ...args: DownstreamEvents[E]
) => void;

export interface DownstreamPool {
  get(id: string): Downstream | undefined;
  all(): Downstream[];
  /**
   * Before startAll(): take the children spawned at process start as the first transports of
   * their servers; the pool then owns them (stop, kill) like its own.
   */
  adoptEarly(early: EarlyChildren): void;
  /** Start every eager server, all at once; never waits for any of them. */
  startAll(): void;
  /** Stop every server; resolves once every child and process group is gone (≤ 5 s). */
  stopAll(): Promise<void>;
  /** Live reload: a new server (started at once if eager and the pool is started). */
  add(id: string, config: ServerConfig): Downstream;
  /** Live reload: stop and forget a server; resolves once it is gone. */
  remove(id: string): Promise<void>;
  on<E extends keyof DownstreamEvents>(event: E, listener: PoolListener<E>): void;
  off<E extends keyof DownstreamEvents>(event: E, listener: PoolListener<E>): void;
  /** SIGKILL every child process group now; for `process.on('exit')`. */
  killAllSync(): void;
}

export function createPool(options: PoolOptions): DownstreamPool {
  const groups = new ChildGroups();
  const members = new Map<string, SupervisedDownstream>();
  const unsubscribe = new Map<string, () => void>();
  const events = new EventEmitter();
  const adopted: EarlyChildren[] = [];
  let started = false;

  const forward = <E extends keyof DownstreamEvents>(event: E, id: string, args: DownstreamEvents[E]) => {
    try {
      events.emit(event, id, ...args);
    } catch (error) {
      options.logger.error(`pool ${event} listener failed`, { server: id, error });
    }
  };

  const add = (id: string, config: ServerConfig): Downstream => {
    if (members.has(id)) throw new InvalidArgumentError(`Server ${id} is already in the pool`);
    const downstream = new SupervisedDownstream({
      id,
      config,
      kind: transportKind(config),
      createTransport: () =>
        createTransport(config, {
          serverId: id,
          groups,
          onStderrLine: (line) => options.stderrSink(id, line),
          stdioTimings: options.stdioTimings,
        }),
      hooks: options.hooks,
      logger: options.logger.child(id),
      clientInfo: options.clientInfo,
      priorEra: options.priorEra && (() => options.priorEra!(id, config)),
      clock: options.clock,
      timings: options.timings,
    });
    const onStatus = (...args: DownstreamEvents['status']) => forward('status', id, args);
    const onCatalog = (...args: DownstreamEvents['catalog']) => forward('catalog', id, args);
    downstream.on('status', onStatus);
    downstream.on('catalog', onCatalog);
    unsubscribe.set(id, () => {
      downstream.off('status', onStatus);
      downstream.off('catalog', onCatalog);
    });
    members.set(id, downstream);
    if (started && config.startup === 'eager') downstream.start();
    return downstream;
  };

  for (const [id, config] of options.servers) add(id, config);

  return {
    get: (id) => members.get(id),
    all: () => [...members.values()],
    adoptEarly(early) {
      adopted.push(early);
      for (const [id, downstream] of members) {
        const transport = early.take(id, downstream.config, (line) => options.stderrSink(id, line));
        if (transport && !downstream.adopt(transport)) void transport.close();
      }
      // Whatever the pool has no server for (none, normally) is not kept waiting.
      void early.closeRest();
    },
    startAll() {
      started = true;
      for (const downstream of members.values())
        if (downstream.config.startup === 'eager') downstream.start();
    },
    async stopAll() {
      await Promise.all([...members.values()].map((downstream) => downstream.stop()));
      // Belt and braces: anything a stop could not confirm gone is killed outright.
      groups.killAllSync();
      for (const early of adopted) early.killAllSync();
    },
    add,
    async remove(id) {
      const downstream = members.get(id);
      if (!downstream) return;
      members.delete(id);
      // Listeners stay on until it is stopped, so the app still sees its final 'stopped' status.
      await downstream.stop();
      unsubscribe.get(id)?.();
      unsubscribe.delete(id);
    },
    on(event, listener) {
      events.on(event, listener as (...args: unknown[]) => void);
    },
    off(event, listener) {
      events.off(event, listener as (...args: unknown[]) => void);
    },
    killAllSync() {
      groups.killAllSync();
      for (const early of adopted) early.killAllSync();
    },
  };
}
