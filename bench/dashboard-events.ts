/**
 * The dashboard section's event source: coordination events at a steady rate through the REST face,
 * as agents locking and releasing files make them. Each of `workers` loops lock → unlock on a file
 * of its own (`coordinator__lock_file` / `unlock_file` over `POST /api/tools/{name}/call`), every
 * call taking the next slot of a global schedule of `rate` calls a second; a call that succeeds
 * published exactly one event (`file:locked` or `file:unlocked`).
 */
import { sleep } from './procs.js';

export interface EventPump {
  /** Calls that succeeded, so events the coordinator published. */
  readonly published: number;
  readonly failed: number;
  readonly lastError: string | undefined;
  stop(): Promise<void>;
}

export function startEventSource(url: string, rate: number, workers = 32): EventPump {
  let next = performance.now();
  let stopped = false;
  const state = { published: 0, failed: 0, lastError: undefined as string | undefined };
  const call = async (tool: string, args: Record<string, unknown>) => {
    try {
      const res = await fetch(`${url}/api/tools/coordinator__${tool}/call`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ arguments: args }),
      });
      const body = (await res.json()) as { data?: { isError?: boolean } };
      if (res.ok && body.data?.isError !== true) state.published += 1;
      else {
        state.failed += 1;
        state.lastError = `${tool}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`;
      }
    } catch (error) {
      state.failed += 1;
      state.lastError = `${tool}: ${(error as Error).message}`;
    }
  };
  const worker = async (w: number) => {
    const file = `src/module-${w}.ts`;
    for (let n = 0; !stopped; n++) {
      // The next slot of the schedule, one every 1/rate s. A source that fell behind (a busy
      // machine) catches up on at most the last second of slots, never more: the rate it
      // reached is what gets reported.
      const due = Math.max(next, performance.now() - 1000);
      next = due + 1000 / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      await (n % 2 === 0
        ? call('lock_file', { file, reason: `bench worker ${w}`, ttlMs: 60_000 })
        : call('unlock_file', { file }));
    }
  };
  const running = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    get published() {
      return state.published;
    },
    get failed() {
      return state.failed;
    },
    get lastError() {
      return state.lastError;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
