import type { SessionInfo } from './api.js';
import type { LiveStream } from './stream.js';

export interface CoordinationEvent {
  id: string;
  type: string;
  source?: string;
  agentId?: string;
  data?: unknown;
  timestamp: string;
}

export interface Ctx {
  session: SessionInfo;
  stream: LiveStream;
  can(scope: 'read' | 'call' | 'admin'): boolean;
}

export interface View {
  readonly id: string;
  readonly title: string;
  readonly el: HTMLElement;
  show(): void;
  hide(): void;
}

export interface ServerHealth {
  status: string;
  transport?: string;
  era?: string;
  tools?: number;
  restarts?: number;
  lastError?: string | null;
  latencyMs?: number | null;
}

export interface StatusReport {
  overall: string;
  servers: Record<string, ServerHealth>;
  dependencies?: Record<string, string>;
  activeAgents: number | null;
  lockedFiles: number | null;
  activeTasks: number | null;
  [key: string]: unknown;
}

/** Prometheus text → the total of tool calls and of the failed ones. */
export function callTotals(metrics: string): { calls: number; errors: number } {
  let calls = 0;
  let errors = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('mcp_coordinator_tool_calls_total{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    calls += value;
    if (!line.includes('outcome="ok"')) errors += value;
  }
  return { calls, errors };
}
