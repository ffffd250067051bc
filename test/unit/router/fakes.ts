/**
 * Test doubles for the health monitor: a clock whose time moves only when told, and a pool of
 * downstreams whose status and ping answers the test sets by hand.
 */
import { EventEmitter } from 'node:events';
import { stdioServerSchema } from '../../../src/config/schema.js';
import type { DownstreamPool, PoolListener } from '../../../src/downstream/pool.js';
import type {
  Downstream,
  DownstreamEvents,
  DownstreamSnapshot,
  DownstreamStatus,
} from '../../../src/downstream/types.js';

export { ManualClock, settle } from '../../helpers/manual-clock.js';

const SNAPSHOT: DownstreamSnapshot = {
  serverInfo: { name: 'fake', version: '1.0.0' },
  capabilities: { tools: {} },
  tools: [
    { name: 'a', inputSchema: { type: 'object' } },
    { name: 'b', inputSchema: { type: 'object' } },
  ],
  prompts: [],
  resources: [],
  resourceTemplates: [],
};

/** A downstream whose ping answers with whatever `answer` returns (5 ms by default). */
export class FakeDownstream {
  readonly config = stdioServerSchema.parse({ command: 'fake' });
  readonly transport = 'stdio' as const;
  status: DownstreamStatus;
  restarts = 0;
  lastError: string | undefined;
  era: 'legacy' | 'modern' | undefined = 'legacy';
  eraNote: string | undefined;
  snapshot: DownstreamSnapshot | undefined = SNAPSHOT;
  pings = 0;
  answer: () => Promise<number> = async () => 5;

  constructor(
    readonly id: string,
    status: DownstreamStatus = 'connected',
  ) {
    this.status = status;
  }

  ping(): Promise<number> {
    this.pings++;
    return this.answer();
  }
}

export class FakePool implements Pick<DownstreamPool, 'get' | 'all' | 'on' | 'off'> {
  private readonly members = new Map<string, FakeDownstream>();
  private readonly events = new EventEmitter();

  constructor(...downstreams: FakeDownstream[]) {
    for (const d of downstreams) this.members.set(d.id, d);
  }

  get(id: string): Downstream | undefined {
    return this.members.get(id) as Downstream | undefined;
  }

  all(): Downstream[] {
    return [...this.members.values()] as unknown as Downstream[];
  }

  fake(id: string): FakeDownstream {
    const d = this.members.get(id);
    if (!d) throw new Error(`no fake ${id}`);
    return d;
  }

  /** What the real pool does: change the status, then tell the listeners. */
  setStatus(id: string, status: DownstreamStatus, lastError?: string): void {
    const d = this.fake(id);
    const previous = d.status;
    d.status = status;
    if (lastError !== undefined) d.lastError = lastError;
    if (status === 'starting' && previous !== 'idle') d.restarts++;
    this.events.emit('status', id, status, previous);
  }

  /** Like pool.remove(): forgotten first, then its final 'stopped'. */
  remove(id: string): void {
    const d = this.fake(id);
    this.members.delete(id);
    const previous = d.status;
    d.status = 'stopped';
    this.events.emit('status', id, 'stopped', previous);
  }

  on<E extends keyof DownstreamEvents>(event: E, listener: PoolListener<E>): void {
    this.events.on(event, listener as (...args: unknown[]) => void);
  }

  off<E extends keyof DownstreamEvents>(event: E, listener: PoolListener<E>): void {
    this.events.off(event, listener as (...args: unknown[]) => void);
  }
}
