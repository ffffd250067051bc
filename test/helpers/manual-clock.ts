/** A Clock whose time moves only when a test says so; due timers run in order. */
import { setImmediate as tick } from 'node:timers/promises';
import type { Clock } from '../../src/shared/clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private timers: Timer[] = [];
  private nextId = 1;

  /** Starts at an arbitrary epoch-ms instant unless told otherwise. */
  constructor(private time = Date.parse('2025-01-01T00:00:00.000Z')) {}

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  pending(): number {
    return this.timers.length;
  }

  /** Move time forward, running each due timer in order and letting its async work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await tick();
}
