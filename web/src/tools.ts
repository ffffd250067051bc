/**
 * The merged catalog: filtered in memory (a lower-cased haystack per tool, built once per catalog),
 * grouped by server, and drawn as a virtual list — only the rows in view exist in the DOM, so a
 * keystroke costs one pass over the names and ~30 rows, whatever the catalog's size.
 */
import { api, ApiError } from './api.js';
import type { Ctx, View } from './context.js';
import { clear, h, json, perFrame, throttle } from './dom.js';
import { renderResult } from './result.js';
import { schemaForm } from './schema-form.js';

interface ToolSummary {
  name: string;
  server: string | null;
  originalName: string;
  description: string;
}

type Row = { kind: 'group'; server: string; count: number } | { kind: 'tool'; tool: ToolSummary };

const ROW = 30;

export class ToolsView implements View {
  readonly id = 'tools';
  readonly title = 'Tools';
  readonly el = h('section', { 'aria-labelledby': 'h-tools', class: 'tools' });
  private readonly search = h('input', {
    id: 'tool-search',
    type: 'search',
    autocomplete: 'off',
    placeholder: 'name or description',
    'aria-controls': 'tool-list',
  });
  private readonly count = h('span', { class: 'muted', role: 'status', 'data-testid': 'tool-count' });
  private readonly viewport = h('div', {
    id: 'tool-list',
    class: 'vlist',
    role: 'region',
    'aria-label': 'Tools',
    tabindex: 0,
  });
  private readonly spacer = h('div', { class: 'spacer', role: 'list', 'aria-label': 'Tools by server' });
  private readonly detail = h('div', { class: 'detail', 'aria-live': 'polite' });
  private tools: ToolSummary[] = [];
  private hay: string[] = [];
  private rows: Row[] = [];
  private servers: string[] = [];
  private loaded = false;
  private selected: string | undefined;
  private readonly draw = perFrame(() => this.drawWindow());
  private readonly filterSoon = perFrame(() => this.filter());
  private readonly reloadSoon = throttle(() => void this.load(), 1_000);
  private visible = false;

  constructor(private readonly ctx: Ctx) {
    this.viewport.append(this.spacer);
    this.search.addEventListener('input', this.filterSoon);
    this.viewport.addEventListener('scroll', this.draw, { passive: true });
    this.viewport.addEventListener('keydown', (e) => this.onKey(e));
    this.el.append(
      h('h2', { id: 'h-tools' }, 'Tools'),
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: 'tool-search' }, 'Search tools'),
        this.search,
        this.count,
      ),
      h('div', { class: 'split' }, this.viewport, this.detail),
    );
    ctx.stream.on('events', (e) => {
      if ((e as { type?: string }).type === 'tools:changed') {
        this.loaded = false;
        if (this.visible) this.reloadSoon();
      }
    });
  }

  show(): void {
    this.visible = true;
    if (!this.loaded) void this.load();
    else this.draw();
  }

  hide(): void {
    this.visible = false;
  }

  private async load(): Promise<void> {
    try {
      const { tools } = await api<{ tools: ToolSummary[] }>('/api/tools');
      this.tools = tools;
      this.hay = tools.map((t) => `${t.name}\n${t.description}`.toLowerCase());
      this.servers = [...new Set(tools.map((t) => t.server ?? 'coordinator'))].sort();
      this.loaded = true;
      this.filter();
    } catch (error) {
      this.count.textContent = `Could not load the tools: ${(error as Error).message}`;
    }
  }

  private filter(): void {
    const words = this.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const groups = new Map<string, ToolSummary[]>();
    for (let i = 0; i < this.tools.length; i++) {
      const hay = this.hay[i]!;
      if (!words.every((w) => hay.includes(w))) continue;
      const tool = this.tools[i]!;
      const server = tool.server ?? 'coordinator';
      let list = groups.get(server);
      if (!list) groups.set(server, (list = []));
      list.push(tool);
    }
    const rows: Row[] = [];
    let shown = 0;
    for (const server of [...groups.keys()].sort()) {
      const list = groups.get(server)!;
      rows.push({ kind: 'group', server, count: list.length });
      for (const tool of list) rows.push({ kind: 'tool', tool });
      shown += list.length;
    }
    this.rows = rows;
    this.count.textContent = `${shown} of ${this.tools.length} tools`;
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.viewport.scrollTop = 0;
    this.drawWindow();
  }

  private drawWindow(): void {
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW) - 5);
    const last = Math.min(
      this.rows.length,
      first + Math.ceil((this.viewport.clientHeight || 600) / ROW) + 10,
    );
    const nodes: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const row = this.rows[i]!;
      let node: HTMLElement;
      if (row.kind === 'group') {
        node = h('div', { class: 'row group', role: 'listitem' }, `${row.server} (${row.count})`);
      } else {
        const t = row.tool;
        node = h(
          'div',
          { class: 'row', role: 'listitem' },
          h(
            'button',
            {
              type: 'button',
              class: `tool ${t.name === this.selected ? 'selected' : ''}`,
              'data-tool': t.name,
              'data-index': i,
              title: t.description,
              onclick: () => void this.open(t.name),
            },
            h('span', { class: 'name' }, t.name),
            h('span', { class: 'desc' }, t.description),
          ),
        );
      }
      // CSSOM, not a style attribute: the Content-Security-Policy allows no inline styles.
      node.style.top = `${i * ROW}px`;
      nodes.push(node);
    }
    clear(this.spacer, ...nodes);
  }

  /** Arrow keys move between tool rows, scrolling the window along. */
  private onKey(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const current = (document.activeElement as HTMLElement | null)?.dataset.index;
    let i = current === undefined ? -1 : Number(current);
    const step = e.key === 'ArrowDown' ? 1 : -1;
    do i += step;
    while (i >= 0 && i < this.rows.length && this.rows[i]!.kind !== 'tool');
    if (i < 0 || i >= this.rows.length) return;
    e.preventDefault();
    const top = i * ROW;
    if (top < this.viewport.scrollTop || top + ROW > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = top - this.viewport.clientHeight / 2;
    }
    this.drawWindow();
    (this.spacer.querySelector(`[data-index="${i}"]`) as HTMLElement | null)?.focus();
  }

  private async open(name: string): Promise<void> {
    this.selected = name;
    this.draw();
    clear(this.detail, h('p', { class: 'muted' }, `Loading ${name}…`));
    let tool: { name: string; description?: string; inputSchema?: unknown; annotations?: unknown };
    try {
      tool = await api(`/api/tools/${encodeURIComponent(name)}`);
    } catch (error) {
      clear(this.detail, h('p', { class: 'error' }, (error as Error).message));
      return;
    }
    const form = schemaForm(tool.inputSchema);
    const target = h(
      'select',
      { id: 'call-target', name: 'target' },
      h('option', { value: '' }, 'automatic (routing rules)'),
      ...this.servers.filter((s) => s !== 'coordinator').map((s) => h('option', { value: s }, s)),
    );
    const context = h('textarea', {
      id: 'call-context',
      rows: 2,
      spellcheck: 'false',
      placeholder: '{ "migration": true }',
      'aria-describedby': 'call-context-hint',
    });
    const out = h('div', { class: 'out' });
    const canCall = this.ctx.can('call');
    const submit = h(
      'button',
      { type: 'submit', ...(canCall ? {} : { disabled: true, title: 'needs the call scope' }) },
      'Call',
    );
    const formEl = h(
      'form',
      { 'aria-label': `Call ${tool.name}` },
      form.el,
      h(
        'details',
        {},
        h('summary', {}, 'Routing hints'),
        h('div', { class: 'field' }, h('label', { for: 'call-target' }, 'Target server'), target),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'call-context' }, 'Context (JSON object)'),
          context,
          h(
            'div',
            { class: 'hint', id: 'call-context-hint' },
            'Matched against the routing rules’ when.context.',
          ),
        ),
      ),
      submit,
      canCall ? null : h('p', { class: 'muted' }, 'Your key cannot call tools (it lacks the call scope).'),
    );
    formEl.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.call(tool.name, form.read, target.value, context.value, out, submit);
    });
    clear(
      this.detail,
      h('h3', {}, tool.name),
      h('p', { class: 'desc' }, tool.description ?? ''),
      h('details', {}, h('summary', {}, 'Input schema'), h('pre', { tabindex: 0 }, json(tool.inputSchema))),
      formEl,
      out,
    );
  }

  private async call(
    name: string,
    read: () => Record<string, unknown>,
    target: string,
    contextText: string,
    out: HTMLElement,
    submit: HTMLButtonElement,
  ): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = { arguments: read() };
      if (target) body.target = target;
      if (contextText.trim()) {
        const context = JSON.parse(contextText) as unknown;
        if (!context || typeof context !== 'object' || Array.isArray(context))
          throw new Error('context: a JSON object');
        body.context = context;
      }
    } catch (error) {
      clear(out, h('p', { class: 'error', role: 'alert' }, (error as Error).message));
      return;
    }
    submit.disabled = true;
    clear(out, h('p', { class: 'muted' }, 'Calling…'));
    try {
      const { data, routing } = await api<{
        data: Parameters<typeof renderResult>[0];
        routing: Parameters<typeof renderResult>[1];
      }>(`/api/tools/${encodeURIComponent(name)}/call`, { method: 'POST', body });
      clear(out, renderResult(data, routing));
    } catch (error) {
      const code = error instanceof ApiError ? ` (${error.status} ${error.code})` : '';
      clear(out, h('p', { class: 'error', role: 'alert' }, `${(error as Error).message}${code}`));
    } finally {
      submit.disabled = false;
    }
  }
}
