/**
 * The coordinator's and every server's log lines, live: the recent ones first, then the stream
 * (resumed after the last line seen). At most MAX_KEPT lines in memory and MAX_SHOWN in the DOM;
 * lines arriving in one frame are appended together; pause keeps collecting but stops drawing.
 */
import { api } from './api.js';
import type { Ctx, View } from './context.js';
import { clear, h, perFrame } from './dom.js';

interface LogLine {
  id: number;
  time: string;
  source: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

const MAX_KEPT = 2_000;
const MAX_SHOWN = 500;
const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class LogsView implements View {
  readonly id = 'logs';
  readonly title = 'Logs';
  readonly el = h('section', { 'aria-labelledby': 'h-logs' });
  private readonly source = h('select', { id: 'log-source' }, h('option', { value: '' }, 'all sources'));
  private readonly level = h(
    'select',
    { id: 'log-level' },
    ...['debug', 'info', 'warn', 'error'].map((l) => h('option', { value: l }, `${l} and above`)),
  );
  private readonly pause = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
  private readonly info = h('span', { class: 'muted', role: 'status' });
  private readonly list = h('ol', { class: 'log', 'aria-label': 'Log lines', tabindex: 0 });
  private lines: LogLine[] = [];
  private pending: LogLine[] = [];
  private paused = false;
  private loaded = false;
  private visible = false;
  private readonly flush = perFrame(() => this.drawPending());

  constructor(private readonly ctx: Ctx) {
    this.source.addEventListener('change', () => this.redraw());
    this.level.addEventListener('change', () => this.redraw());
    this.source.addEventListener('focus', () => void this.loadSources());
    this.pause.addEventListener('click', () => {
      this.paused = !this.paused;
      this.pause.textContent = this.paused ? 'Resume' : 'Pause';
      this.pause.setAttribute('aria-pressed', String(this.paused));
      if (!this.paused) this.redraw();
      this.status();
    });
    this.el.append(
      h('h2', { id: 'h-logs' }, 'Logs'),
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: 'log-source' }, 'Source'),
        this.source,
        h('label', { for: 'log-level' }, 'Level'),
        this.level,
        this.pause,
        this.info,
      ),
      this.list,
    );
    ctx.stream.on('logs', (item) => this.add(item as LogLine));
  }

  show(): void {
    this.visible = true;
    void this.start();
  }

  hide(): void {
    this.visible = false;
  }

  private async start(): Promise<void> {
    if (!this.loaded) {
      try {
        const { lines } = await api<{ lines: LogLine[] }>('/api/logs?limit=200');
        this.lines = lines.slice(-MAX_KEPT);
        this.loaded = true;
        this.ctx.stream.resumeAfter('logs', String(lines.at(-1)?.id ?? 0));
        void this.loadSources();
        this.redraw();
      } catch (error) {
        this.info.textContent = `Could not load the logs: ${(error as Error).message}`;
        return;
      }
    }
    if (this.visible) this.ctx.stream.use('logs');
  }

  private async loadSources(): Promise<void> {
    try {
      const { sources } = await api<{ sources: Array<{ source: string; count: number }> }>(
        '/api/logs/sources',
      );
      const chosen = this.source.value;
      const known = new Set([...this.source.options].map((o) => o.value));
      for (const { source } of sources)
        if (!known.has(source)) this.source.append(h('option', { value: source }, source));
      this.source.value = chosen;
    } catch {
      // the list keeps what it had
    }
  }

  private matches(line: LogLine): boolean {
    const source = this.source.value;
    return (!source || line.source === source) && (RANK[line.level] ?? 0) >= (RANK[this.level.value] ?? 0);
  }

  private add(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_KEPT) this.lines.splice(0, this.lines.length - MAX_KEPT);
    if (![...this.source.options].some((o) => o.value === line.source))
      this.source.append(h('option', { value: line.source }, line.source));
    if (this.paused || !this.matches(line)) return this.status();
    this.pending.push(line);
    if (this.pending.length > MAX_SHOWN) this.pending.splice(0, this.pending.length - MAX_SHOWN);
    this.flush();
  }

  private item(line: LogLine): HTMLLIElement {
    return h(
      'li',
      { class: `lvl-${line.level}`, 'data-source': line.source },
      h('time', {}, line.time.slice(11, 23)),
      h('span', { class: 'src' }, line.source),
      h('span', { class: 'lvl' }, line.level),
      h('span', { class: 'msg' }, line.message),
    );
  }

  private drawPending(): void {
    if (this.pending.length === 0) return;
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 20;
    const fragment = document.createDocumentFragment();
    for (const line of this.pending) fragment.append(this.item(line));
    this.pending = [];
    this.list.append(fragment);
    while (this.list.childElementCount > MAX_SHOWN) this.list.firstElementChild!.remove();
    if (stick) this.list.scrollTop = this.list.scrollHeight;
    this.status();
  }

  private redraw(): void {
    this.pending = [];
    const shown = this.lines.filter((l) => this.matches(l)).slice(-MAX_SHOWN);
    clear(this.list, ...shown.map((l) => this.item(l)));
    this.list.scrollTop = this.list.scrollHeight;
    this.status();
  }

  private status(): void {
    this.info.textContent = `${this.list.childElementCount} shown, ${this.lines.length} kept${this.paused ? ' — paused' : ''}`;
  }
}
