/** Locks, tasks by status, agents, and the event stream live with a type filter. */
import { api } from './api.js';
import type { CoordinationEvent, Ctx, View } from './context.js';
import { ago, clear, h, perFrame, throttle } from './dom.js';
import { stats } from './stats.js';

interface Lock {
  file: string;
  holder: string;
  reason?: string;
  expiresAt?: string;
  taskId?: string;
}
interface Task {
  taskId: string;
  title?: string;
  status: string;
  agentId?: string;
  holder?: string | null;
  files?: string[];
  steps?: number;
  updatedAt?: string;
}
interface Agent {
  agentId: string;
  status?: string;
  capabilities?: string[];
  lastSeen?: string;
}

const MAX_EVENTS = 200;
const STATUSES = ['open', 'claimed', 'completed', 'released'];

export class CoordinationView implements View {
  readonly id = 'coordination';
  readonly title = 'Coordination';
  readonly el = h('section', { 'aria-labelledby': 'h-coordination' });
  private readonly locksBody = h('tbody', { 'data-testid': 'locks' });
  private readonly tasksEl = h('div', { class: 'tasks' });
  private readonly agentsBody = h('tbody');
  private readonly typeFilter = h('input', {
    id: 'event-type',
    type: 'search',
    placeholder: 'file:* or task:claimed',
    autocomplete: 'off',
  });
  private readonly eventsList = h('ol', { class: 'events', 'aria-label': 'Events', tabindex: 0 });
  private readonly note = h('p', { class: 'muted', role: 'status' });
  private locks: Lock[] = [];
  private events: CoordinationEvent[] = [];
  private visible = false;
  /** Events that arrived since the last frame: drawn together, newest first. */
  private fresh: CoordinationEvent[] = [];
  private readonly flush = perFrame(() => {
    const fragment = document.createDocumentFragment();
    for (const event of this.fresh.slice(-MAX_EVENTS).reverse()) fragment.append(this.eventItem(event));
    stats.drawnEvents += Math.min(this.fresh.length, MAX_EVENTS);
    this.fresh = [];
    this.eventsList.prepend(fragment);
    while (this.eventsList.childElementCount > MAX_EVENTS) this.eventsList.lastElementChild!.remove();
  });
  private ticker: number | undefined;
  private readonly refreshSoon = throttle(() => void this.refresh(), 150);

  constructor(ctx: Ctx) {
    const table = (caption: string, head: string[], body: HTMLElement) =>
      h(
        'div',
        // Focusable: a table wider than a phone scrolls by keyboard too.
        { class: 'scroll-x', role: 'region', 'aria-label': caption, tabindex: 0 },
        h(
          'table',
          { class: 'stack' },
          h('caption', {}, caption),
          h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
          body,
        ),
      );
    this.typeFilter.addEventListener('input', () => this.drawEvents());
    this.el.append(
      h('h2', { id: 'h-coordination' }, 'Coordination'),
      this.note,
      table('Locks', ['File', 'Holder', 'Reason', 'Expires in'], this.locksBody),
      h('h3', {}, 'Tasks'),
      this.tasksEl,
      table('Agents', ['Agent', 'Status', 'Capabilities', 'Last seen'], this.agentsBody),
      h('h3', {}, 'Events'),
      h('div', { class: 'toolbar' }, h('label', { for: 'event-type' }, 'Type filter'), this.typeFilter),
      this.eventsList,
    );
    ctx.stream.on('events', (item) => {
      const event = item as CoordinationEvent;
      this.events.unshift(event);
      if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
      if (!this.visible) return;
      if (this.matches(event)) {
        this.fresh.push(event);
        this.flush();
      }
      if (/^(file|task|agent):/.test(event.type)) this.refreshSoon();
    });
  }

  show(): void {
    this.visible = true;
    void this.refresh();
    this.drawEvents();
    // "Expires in" counts down without asking the server.
    this.ticker = window.setInterval(() => this.drawLocks(), 1_000);
  }

  hide(): void {
    this.visible = false;
    window.clearInterval(this.ticker);
  }

  private async refresh(): Promise<void> {
    try {
      const [locks, tasks, agents] = await Promise.all([
        api<{ locks?: Lock[] }>('/api/locks'),
        api<{ tasks?: Task[] }>('/api/tasks'),
        api<{ agents?: Agent[] }>('/api/agents'),
      ]);
      this.locks = locks.locks ?? [];
      this.drawLocks();
      this.drawTasks(tasks.tasks ?? []);
      clear(
        this.agentsBody,
        ...(agents.agents ?? []).map((a) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, a.agentId),
            h('td', { 'data-label': 'Status' }, a.status ?? ''),
            h('td', { 'data-label': 'Capabilities' }, (a.capabilities ?? []).join(', ')),
            h('td', { 'data-label': 'Last seen' }, ago(a.lastSeen)),
          ),
        ),
      );
      if ((agents.agents ?? []).length === 0)
        this.agentsBody.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No agents registered')));
      this.note.textContent = '';
    } catch (error) {
      this.note.textContent = `Could not load the coordination state: ${(error as Error).message}`;
    }
  }

  private drawLocks(): void {
    const rows = this.locks.map((l) => {
      const left = l.expiresAt
        ? Math.max(0, Math.round((Date.parse(l.expiresAt) - Date.now()) / 1000))
        : undefined;
      return h(
        'tr',
        { 'data-file': l.file },
        h('th', { scope: 'row' }, l.file),
        h('td', { 'data-label': 'Holder' }, l.holder),
        h('td', { 'data-label': 'Reason' }, l.reason ?? (l.taskId ? `task ${l.taskId}` : '')),
        h('td', { 'data-label': 'Expires in' }, left === undefined ? '—' : `${left}s`),
      );
    });
    clear(this.locksBody, ...rows);
    if (rows.length === 0)
      this.locksBody.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No file is locked')));
  }

  private drawTasks(tasks: Task[]): void {
    clear(
      this.tasksEl,
      ...STATUSES.map((status) => {
        const list = tasks.filter((t) => t.status === status);
        return h(
          'div',
          { class: 'task-col' },
          h('h4', {}, `${status} (${list.length})`),
          h(
            'ul',
            {},
            ...list.map((t) =>
              h(
                'li',
                { 'data-task': t.taskId },
                h('strong', {}, t.title ?? t.taskId),
                h(
                  'div',
                  { class: 'muted' },
                  `${t.taskId} · ${t.holder ?? t.agentId ?? ''} · ${t.steps ?? 0} steps`,
                ),
                t.files?.length ? h('div', { class: 'files' }, t.files.join(', ')) : null,
              ),
            ),
          ),
        );
      }),
    );
  }

  private matches(event: CoordinationEvent): boolean {
    const filter = this.typeFilter.value.trim();
    if (!filter) return true;
    const pattern = new RegExp(`^${filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}`);
    return pattern.test(event.type);
  }

  private eventItem(e: CoordinationEvent): HTMLLIElement {
    return h(
      'li',
      { 'data-type': e.type },
      h('time', {}, e.timestamp.slice(11, 19)),
      h('span', { class: 'type' }, e.type),
      h('span', { class: 'muted' }, e.agentId ?? ''),
      h('code', {}, JSON.stringify(e.data ?? {})),
    );
  }

  private drawEvents(): void {
    this.fresh = [];
    clear(this.eventsList, ...this.events.filter((e) => this.matches(e)).map((e) => this.eventItem(e)));
  }
}
