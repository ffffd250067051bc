/** Overall health, servers by state, calls/s and errors, agents, locks, open tasks — live. */
import { api, text } from './api.js';
import { callTotals, type Ctx, type StatusReport, type View } from './context.js';
import { badge, clear, h, throttle } from './dom.js';

const UP = new Set(['healthy', 'degraded']);
const STARTING = new Set(['starting', 'pending']);

export class OverviewView implements View {
  readonly id = 'overview';
  readonly title = 'Overview';
  readonly el = h('section', { 'aria-labelledby': 'h-overview' });
  private readonly cards = h('div', { class: 'cards' });
  private readonly note = h('p', { class: 'muted', role: 'status' });
  private visible = false;
  private timer: number | undefined;
  private previous: { calls: number; errors: number; at: number } | undefined;
  private rate = { calls: 0, errors: 0 };
  private last: StatusReport | undefined;
  private lastOpen: number | null = null;
  private lastTotals = { calls: 0, errors: 0 };
  private readonly refreshSoon = throttle(() => void this.refresh(), 200);

  constructor(private readonly ctx: Ctx) {
    this.el.append(h('h2', { id: 'h-overview' }, 'Overview'), this.cards, this.note);
    ctx.stream.on('events', (item) => {
      if (!this.visible) return;
      // A health event carries the new state: show it now, then ask for the rest.
      const e = item as { type?: string; data?: { serverId?: string; to?: string } };
      const server = e.data?.serverId && this.last?.servers[e.data.serverId];
      if (e.type?.startsWith('health:') && server && e.data?.to) {
        server.status = e.data.to;
        this.render(this.last!, this.lastOpen, this.lastTotals);
      }
      this.refreshSoon();
    });
  }

  show(): void {
    this.visible = true;
    void this.refresh();
    // calls/s is a rate: one light sample every 5 s while the tab is shown (events drive the rest).
    this.timer = window.setInterval(() => void this.refresh(), 5_000);
  }

  hide(): void {
    this.visible = false;
    window.clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
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
