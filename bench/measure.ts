/** The measurements themselves, each on an already started Session, each bounded by count and time. */
import { performance } from 'node:perf_hooks';
import type { Session } from './session.js';

export interface Timed {
  /** Milliseconds per call, in call order. */
  samples: number[];
}

/** Checks the hop really forwards: echo must come back with the exact text. */
export async function sanityCheck(session: Session, server: string): Promise<void> {
  const text = `bench-${Math.random().toString(36).slice(2)}`;
  const res = (await session.call(server, 'echo', { text })) as {
    content?: { type: string; text?: string }[];
  };
  const got = res.content?.[0]?.text;
  if (got !== text)
    throw new Error(`echo returned ${JSON.stringify(got)} instead of ${JSON.stringify(text)}`);
}

/** Sequential echo calls: one in flight, latency per call. */
export async function echoLatency(
  session: Session,
  server: string,
  maxCalls: number,
  maxMs: number,
): Promise<Timed> {
  const samples: number[] = [];
  const end = performance.now() + maxMs;
  const args = { text: 'hello' };
  while (samples.length < maxCalls && performance.now() < end) {
    const t0 = performance.now();
    await session.call(server, 'echo', args);
    samples.push(performance.now() - t0);
  }
  return { samples };
}

export interface Burst {
  calls: number;
  ms: number;
  /** Milliseconds per completed call, in completion order. */
  samples: number[];
}

/** `inFlight` workers calling echo back to back for `maxMs` (or `maxCalls`); calls completed, time taken, each call's latency. */
export async function throughput(
  session: Session,
  servers: readonly string[],
  inFlight: number,
  maxMs: number,
  maxCalls: number,
): Promise<Burst> {
  let started = 0;
  let calls = 0;
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + maxMs;
  const args = { text: 'hello' };
  const worker = async (w: number) => {
    const server = servers[w % servers.length]!;
    while (started < maxCalls && performance.now() < end) {
      started++;
      const t = performance.now();
      await session.call(server, 'echo', args);
      samples.push(performance.now() - t);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  return { calls, ms: performance.now() - t0, samples };
}

/** `calls` concurrent `sleep {ms}` calls; the wall time until the last answers. */
export async function concurrentSleep(
  session: Session,
  server: string,
  calls: number,
  ms: number,
): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: calls }, () => session.call(server, 'sleep', { ms })));
  return performance.now() - t0;
}

/** Repeated full `tools/list` (all pages); latency per list. Each must hold at least `minTools`. */
export async function listLatency(
  session: Session,
  minTools: number,
  maxLists: number,
  maxMs: number,
): Promise<Timed> {
  const samples: number[] = [];
  const end = performance.now() + maxMs;
  while (samples.length < maxLists && performance.now() < end) {
    const t0 = performance.now();
    const names = await session.listToolNames();
    samples.push(performance.now() - t0);
    if (names.length < minTools) throw new Error(`tools/list returned ${names.length} < ${minTools} tools`);
  }
  return { samples };
}
