/**
 * What the overview and the servers tab share: both draw the health report. While shown, a
 * health event's new state is drawn at once, any relevant event asks for the full report soon
 * (throttled), and the report is re-read every 5 s (calls/s is a rate); hidden, nothing runs.
 */
import type { Ctx, ServerHealth, View } from './context.js';
import { throttle } from './dom.js';

export abstract class StatusView implements View {
  abstract readonly id: string;
  abstract readonly title: string;
  abstract readonly el: HTMLElement;
  private visible = false;
  private timer: number | undefined;
  protected readonly refreshSoon = throttle(() => void this.refresh(), 200);

  constructor(ctx: Ctx, relevant: (type: string) => boolean) {
    ctx.stream.on('events', (item) => {
      const e = item as { type?: string; data?: { serverId?: string; to?: string } };
      const type = e.type ?? '';
      if (!this.visible || !relevant(type)) return;
      const server = e.data?.serverId ? this.servers()?.[e.data.serverId] : undefined;
      if (type.startsWith('health:') && server && e.data?.to) {
        server.status = e.data.to;
        this.redraw();
      }
      this.refreshSoon();
    });
  }

  show(): void {
    this.visible = true;
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), 5_000);
  }

  hide(): void {
    this.visible = false;
    window.clearInterval(this.timer);
  }

  /** Read the report (and whatever else the view shows) and draw it. */
  protected abstract refresh(): Promise<void>;
  /** The servers of the last report drawn, to patch from a health event. */
  protected abstract servers(): Record<string, ServerHealth> | undefined;
  /** Draw the last report again (after a patch). */
  protected abstract redraw(): void;
}
