/** Each server: status, era, transport, tools, restarts, latency (with a short history), last error, stderr, restart. */
import { api, ApiError } from './api.js';
import type { Ctx, ServerHealth, StatusReport } from './context.js';
import { badge, clear, h } from './dom.js';
import { StatusView } from './status-view.js';

const BARS = '▁▂▃▄▅▆▇█';
const HISTORY = 24;

export class ServersView extends StatusView {
  readonly id = 'servers';
  readonly title = 'Servers';
  readonly el = h('section', { 'aria-labelledby': 'h-servers' });
  private readonly configError = h('div', { class: 'error', role: 'alert', hidden: true });
  private readonly body = h('tbody');
  private readonly note = h('p', { class: 'muted', role: 'status' });
  private readonly history = new Map<string, Array<number | null>>();
  private readonly openLogs = new Set<string>();
  private last: Record<string, ServerHealth> | undefined;
  constructor(private readonly ctx: Ctx) {
    super(ctx, (type) => /^(health|server|tools):/.test(type));
    const head = [
      'Server',
      'Status',
      'Era',
      'Transport',
      'Tools',
      'Restarts',
      'Latency',
      'Last error',
      'Actions',
    ];
    this.el.append(
      h('h2', { id: 'h-servers' }, 'Servers'),
      this.configError,
      h(
        'div',
        { class: 'scroll-x', role: 'region', 'aria-label': 'Servers table', tabindex: 0 },
        h(
          'table',
          { class: 'stack' },
          h('caption', { class: 'visually-hidden' }, 'Servers'),
          h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
          this.body,
        ),
      ),
      this.note,
    );
  }

  protected servers(): Record<string, ServerHealth> | undefined {
    return this.last;
  }

  protected redraw(): void {
    if (this.last) this.render(this.last);
  }

  protected async refresh(): Promise<void> {
    try {
      const status = await api<StatusReport & { config?: { file?: string; error?: string | null } }>(
        '/status',
      );
      const error = status.config?.error;
      this.configError.hidden = !error;
      this.configError.textContent = error
        ? `servers.yml is invalid (the last good config is in use): ${error}`
        : '';
      for (const [id, s] of Object.entries(status.servers)) {
        const list = this.history.get(id) ?? [];
        list.push(s.latencyMs ?? null);
        if (list.length > HISTORY) list.shift();
        this.history.set(id, list);
      }
      this.last = status.servers;
      this.render(status.servers);
    } catch (error) {
      this.note.textContent = `Could not load the servers: ${(error as Error).message}`;
    }
  }

  private render(servers: Record<string, ServerHealth>): void {
    const rows: HTMLTableRowElement[] = [];
    for (const [id, s] of Object.entries(servers).sort(([a], [b]) => a.localeCompare(b))) {
      const logsId = `stderr-${id}`;
      const restart = this.ctx.can('admin')
        ? h(
            'button',
            { type: 'button', 'data-action': 'restart', onclick: () => void this.restart(id) },
            'Restart',
          )
        : null;
      const logsButton = h(
        'button',
        {
          type: 'button',
          'aria-expanded': String(this.openLogs.has(id)),
          'aria-controls': logsId,
          onclick: () => {
            if (this.openLogs.has(id)) this.openLogs.delete(id);
            else this.openLogs.add(id);
            this.render(servers);
          },
        },
        'stderr',
      );
      rows.push(
        h(
          'tr',
          { 'data-server': id, 'data-status': s.status },
          h('th', { scope: 'row' }, id),
          h('td', { 'data-label': 'Status' }, badge(s.status)),
          h('td', { 'data-label': 'Era' }, s.era ?? '—'),
          h('td', { 'data-label': 'Transport' }, s.transport ?? '—'),
          h('td', { 'data-label': 'Tools' }, s.tools ?? 0),
          h('td', { 'data-label': 'Restarts' }, s.restarts ?? 0),
          h(
            'td',
            { 'data-label': 'Latency' },
            s.latencyMs == null ? '—' : `${Math.round(s.latencyMs)} ms `,
            h('span', { class: 'spark', 'aria-hidden': 'true' }, this.spark(id)),
          ),
          h('td', { class: 'wrap', 'data-label': 'Last error' }, s.lastError ?? ''),
          h('td', { class: 'actions' }, logsButton, restart),
        ),
      );
      if (this.openLogs.has(id)) {
        const pre = h('pre', { id: logsId, class: 'stderr', tabindex: 0 }, 'Loading…');
        rows.push(h('tr', {}, h('td', { colspan: 9 }, pre)));
        void this.loadStderr(id, pre);
      }
    }
    clear(this.body, ...rows);
  }

  private spark(id: string): string {
    const values = (this.history.get(id) ?? []).filter((v): v is number => v !== null);
    if (values.length < 2) return '';
    const max = Math.max(...values, 1);
    return values.map((v) => BARS[Math.min(7, Math.floor((v / max) * 7))]).join('');
  }

  private async loadStderr(id: string, pre: HTMLElement): Promise<void> {
    try {
      const { lines } = await api<{ lines: Array<{ time: string; level: string; message: string }> }>(
        `/api/logs?source=${encodeURIComponent(`server:${id}`)}&limit=50`,
      );
      pre.textContent = lines.length
        ? lines.map((l) => `${l.time.slice(11, 19)} ${l.message}`).join('\n')
        : '(no stderr yet)';
    } catch (error) {
      pre.textContent = `Could not load: ${(error as Error).message}`;
    }
  }

  private async restart(id: string): Promise<void> {
    try {
      await api(`/api/servers/${encodeURIComponent(id)}/restart`, { method: 'POST', body: {} });
      this.note.textContent = `Restarting ${id}…`;
      this.refreshSoon();
    } catch (error) {
      this.note.textContent =
        error instanceof ApiError && error.status === 403
          ? `Not allowed: ${error.message}`
          : `Restart failed: ${(error as Error).message}`;
    }
  }
}
