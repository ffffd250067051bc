/**
 * The agents of this coordinator: registration (`agent:registered`), heartbeats that keep their
 * keys alive, explicit leave (`agent:left`, releasing their tasks and locks), and the sweep that
 * notices other coordinators' agents whose keys expired.
 *
 * One unref'd timer every third of the TTL both heartbeats and sweeps. A registration that could
 * not reach the store is announced by the first heartbeat that can; a heartbeat that finds its
 * key gone (swept by someone else, or lost in a Redis restart) announces the agent again.
 *
 * Each agent carries a profile (capabilities, status, metadata) set by register_agent. Its status
 * follows its claims: `working` once it holds a task claimed here, `idle` when the last one is
 * completed or released (`agent:status_changed` either way).
 */
import { z } from 'zod';

import { silentLogger, type Logger } from '../../shared/logger.js';
import { assertJsonBytes, LIMITS } from '../limits.js';
import type { Locks } from '../locks/service.js';
import { capabilitiesSchema } from '../tasks/board.js';
import type { Tasks } from '../tasks/service.js';
import { systemClock, type Clock, type EventBus } from '../types.js';
import { parseArgs } from '../validate.js';
import {
  AGENT_STATUSES,
  DEFAULT_PROFILE,
  type AgentBackend,
  type AgentRecord,
  type AgentStatus,
  type ClientInfo,
} from './types.js';

/** register_agent's arguments: each one given replaces what the agent had. */
export const agentProfileSchema = z.object({
  capabilities: capabilitiesSchema
    .optional()
    .describe('What you can do; find_tasks matches tasks against it'),
  status: z
    .enum(AGENT_STATUSES)
    .optional()
    .describe('Your status; claims set working and idle by themselves'),
  metadata: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(`Anything others should know about you, at most ${LIMITS.metadataBytes} bytes of JSON`),
});

export type AgentProfileInput = z.input<typeof agentProfileSchema>;

export interface AgentsOptions {
  backend: AgentBackend;
  bus: EventBus;
  locks: Locks;
  tasks: Tasks;
  /** This coordinator's instance id, recorded with its agents. */
  source: string;
  /**
   * This coordinator's owner token (see locks/types.ts): its agents leaving free only the locks
   * and claims taken through it (and their owner-less ones), not those of another process acting
   * as the same agent. Absent: leaving frees every session's.
   */
  owner?: string;
  ttlMs: number;
  clock?: Clock;
  logger?: Logger;
}

interface LocalAgent {
  record: AgentRecord;
  announced: boolean;
}

export class Agents {
  private readonly local = new Map<string, LocalAgent>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: AgentsOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child('agents');
    options.tasks.onHoldingsChanged((agentId, holds) => this.followClaims(agentId, holds));
    this.schedule();
  }

  /**
   * Register `agentId` (idempotent; a profile set earlier is kept). Never throws for an
   * unreachable store: heartbeats retry.
   */
  async register(agentId: string, clientInfo: ClientInfo): Promise<boolean> {
    const now = new Date(this.clock.now()).toISOString();
    const previous = this.local.get(agentId)?.record;
    const agent: LocalAgent = {
      record: {
        ...DEFAULT_PROFILE,
        ...(previous && {
          capabilities: previous.capabilities,
          status: previous.status,
          metadata: previous.metadata,
        }),
        agentId,
        clientInfo,
        source: this.options.source,
        registeredAt: now,
        lastSeen: now,
      },
      announced: false,
    };
    this.local.set(agentId, agent);
    return this.beat(agent);
  }

  /**
   * Set this coordinator's agent's capabilities, status or metadata (registering it when it is
   * not yet). Written at once; throws when the store is unreachable.
   */
  async update(agentId: string, input: AgentProfileInput): Promise<AgentRecord> {
    const patch = parseArgs(agentProfileSchema, input);
    assertJsonBytes('metadata', patch.metadata, LIMITS.metadataBytes);
    if (!this.local.has(agentId)) await this.register(agentId, {});
    const agent = this.local.get(agentId)!;
    const before = agent.record;
    const previous = before.status;
    agent.record = {
      ...before,
      ...(patch.capabilities !== undefined && { capabilities: [...new Set(patch.capabilities)] }),
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.metadata !== undefined && { metadata: patch.metadata }),
    };
    try {
      await this.beat(agent, { rethrow: true });
    } catch (error) {
      // Not stored, so not set: the next heartbeat must not write it behind the caller's back.
      agent.record = before;
      throw error;
    }
    if (agent.record.status !== previous) this.publishStatus(agent.record, previous, 'register');
    return agent.record;
  }

  /** A live agent: this coordinator's own record, else the store's. */
  async get(agentId: string): Promise<AgentRecord | undefined> {
    return this.local.get(agentId)?.record ?? (await this.options.backend.get(agentId));
  }

  /** Leave: `agent:left`, then release the agent's tasks and locks. Without an id, all of ours. */
  async leave(agentId?: string): Promise<void> {
    const ids = agentId !== undefined ? [agentId] : [...this.local.keys()];
    for (const id of ids) {
      this.local.delete(id);
      try {
        // Another process acting as the same agent may still be present: then it has not left.
        if (await this.options.backend.remove(id, this.options.owner)) {
          this.publishLeft(id, 'leave');
        }
        await this.releaseHoldings(id, this.options.owner);
      } catch (error) {
        // Its key expires without heartbeats; a sweep elsewhere then announces and cleans up.
        this.logger.warn('agent leave deferred to expiry', { agentId: id, error });
      }
    }
  }

  list(): Promise<AgentRecord[]> {
    return this.options.backend.list();
  }

  /** Announce and clean up after agents whose heartbeat stopped. Returns their ids. */
  async sweep(): Promise<string[]> {
    const gone: string[] = [];
    for (const id of await this.options.backend.expired()) {
      // Our own agent expired only because our heartbeats were late: beat instead.
      if (this.local.has(id)) continue;
      if (!(await this.options.backend.claimExpired(id))) continue;
      this.publishLeft(id, 'expired');
      // No session of it heartbeats anywhere: everything it holds goes, whoever took it.
      await this.releaseHoldings(id);
      gone.push(id);
    }
    return gone;
  }

  /** Heartbeat every local agent and sweep; what the timer runs. */
  async tick(): Promise<void> {
    for (const agent of [...this.local.values()]) await this.beat(agent);
    try {
      await this.sweep();
    } catch (error) {
      this.logger.debug('agent sweep deferred', { error });
    }
  }

  /** Stop heartbeats and sweeps (without leaving: call leave() first for a clean exit). */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
  }

  /** Claims drive the status: working while holding a task, idle after (a manual status stays). */
  private async followClaims(agentId: string, holds: boolean): Promise<void> {
    const agent = this.local.get(agentId);
    if (!agent) return;
    const previous = agent.record.status;
    const next: AgentStatus | undefined =
      holds && previous !== 'working' ? 'working' : !holds && previous === 'working' ? 'idle' : undefined;
    if (next === undefined) return;
    agent.record = { ...agent.record, status: next };
    this.publishStatus(agent.record, previous, 'task');
    await this.beat(agent);
  }

  private publishStatus(record: AgentRecord, previous: AgentStatus, cause: 'register' | 'task'): void {
    this.options.bus.publish({
      type: 'agent:status_changed',
      agentId: record.agentId,
      data: { agentId: record.agentId, status: record.status, previous, cause },
    });
  }

  private async beat(agent: LocalAgent, options: { rethrow?: boolean } = {}): Promise<boolean> {
    const record = { ...agent.record, lastSeen: new Date(this.clock.now()).toISOString() };
    let wasAbsent: boolean;
    try {
      wasAbsent = await this.options.backend.heartbeat(record, this.options.ttlMs, this.options.owner);
    } catch (error) {
      if (options.rethrow) throw error;
      this.logger.debug('agent heartbeat failed', { agentId: record.agentId, error });
      return false;
    }
    // It may have left while the heartbeat was in flight.
    const current = this.local.get(record.agentId);
    if (current === undefined) {
      await this.options.backend.remove(record.agentId, this.options.owner).catch(() => false);
      return false;
    }
    // Registered again meanwhile: that registration announces itself.
    if (current !== agent) return true;
    if (!agent.announced || wasAbsent) {
      this.options.bus.publish({
        type: 'agent:registered',
        agentId: record.agentId,
        data: {
          agentId: record.agentId,
          clientInfo: record.clientInfo,
          capabilities: record.capabilities,
          status: record.status,
          registeredAt: record.registeredAt,
          ...(agent.announced ? { rejoined: true } : {}),
        },
      });
      agent.announced = true;
    }
    return true;
  }

  private publishLeft(agentId: string, cause: 'leave' | 'expired'): void {
    this.options.bus.publish({ type: 'agent:left', agentId, data: { agentId, cause } });
  }

  /** With `owner`: only that session's holdings (and the agent's owner-less ones). */
  private async releaseHoldings(agentId: string, owner?: string): Promise<void> {
    await this.options.tasks.releaseAllFor(agentId, owner);
    await this.options.locks.releaseAllHeldBy(agentId, 'agent_left', owner);
  }

  private schedule(): void {
    if (this.closed) return;
    this.cancelTimer = this.clock.setTimer(
      () => {
        void this.tick().finally(() => this.schedule());
      },
      Math.max(1, Math.floor(this.options.ttlMs / 3)),
    );
  }
}
