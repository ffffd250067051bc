/** Overall health, servers by state, calls/s and errors, agents, locks, open tasks — live. */
import { api, text } from './api.js';
import { callTotals, type Ctx, type ServerHealth, type StatusReport } from './context.js';
import { badge, clear, h } from './dom.js';
import { StatusView } from './status-view.js';

const UP = new Set(['healthy', 'degraded']);
const STARTING = new Set(['starting', 'pending']);

export class OverviewView extends StatusView {
  readonly id = 'overview';
  readonly title = 'Overview';
  readonly el = h('section', { 'aria-labelledby': 'h-overview' });
  private readonly cards = h('div', { class: 'cards' });
  private readonly note = h('p', { class: 'muted', role: 'status' });
  private previous: { calls: number; errors: number; at: number } | undefined;
  private rate = { calls: 0, errors: 0 };
  private last: StatusReport | undefined;
  private lastOpen: number | null = null;
  private lastTotals = { calls: 0, errors: 0 };

  constructor(ctx: Ctx) {
    // Every event may change a count shown here.
    super(ctx, () => true);
    this.el.append(h('h2', { id: 'h-overview' }, 'Overview'), this.cards, this.note);
  }

  protected servers(): Record<string, ServerHealth> | undefined {
    return this.last?.servers;
  }

  protected redraw(): void {
    if (this.last) this.render(this.last, this.lastOpen, this.lastTotals);
  }

  protected async refresh(): Promise<void> {
    try {
      const [status, open, metrics] = await Promise.all([
        api<StatusReport>('/status'),
        api<{ tasks?: unknown[] }>('/api/tasks?status=open').catch(() => undefined),
        text('/metrics').catch(() => ''),
      ]);
      const totals = callTotals(metrics);
      const now = performance.now();
      if (this.previous && now > this.previous.at) {
        const seconds = (now - this.previous.at) / 1000;
        this.rate = {
          calls: Math.max(0, (totals.calls - this.previous.calls) / seconds),
          errors: Math.max(0, (totals.errors - this.previous.errors) / seconds),
        };
      }
      this.previous = { ...totals, at: now };
      this.last = status;
      this.lastOpen = open?.tasks?.length ?? null;
      this.lastTotals = totals;
      this.render(status, this.lastOpen, totals);
      this.note.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      this.note.textContent = `Could not load the status: ${(error as Error).message}`;
    }
  }

  private render(s: StatusReport, openTasks: number | null, totals: { calls: number; errors: number }): void {
    const servers = Object.values(s.servers);
    const up = servers.filter((x) => UP.has(x.status)).length;
    const starting = servers.filter((x) => STARTING.has(x.status)).length;
    const down = servers.length - up - starting;
    const card = (label: string, value: Node | string | number, testid: string, extra = '') =>
      h(
        'div',
        { class: `card ${extra}`, 'data-testid': testid },
        h('div', { class: 'label' }, label),
        h('div', { class: 'value' }, value),
      );
    const dash = (n: number | null) => (n === null ? '—' : n);
    clear(
      this.cards,
      card('Overall health', badge(s.overall), 'overall'),
      card('Servers up', up, 'servers-up', 'ok'),
      card('Starting', starting, 'servers-starting'),
      card('Down', down, 'servers-down', down > 0 ? 'bad' : ''),
      card('Calls / s', this.rate.calls.toFixed(2), 'calls-rate'),
      card('Errors', `${totals.errors} (${this.rate.errors.toFixed(2)}/s)`, 'errors'),
      card('Agents online', dash(s.activeAgents), 'agents'),
      card('Locks held', dash(s.lockedFiles), 'locks'),
      card('Open tasks', dash(openTasks), 'open-tasks'),
      card('Redis', s.dependencies?.redis ?? '—', 'redis'),
      card('PostgreSQL', s.dependencies?.postgres ?? '—', 'postgres'),
    );
  }
}
