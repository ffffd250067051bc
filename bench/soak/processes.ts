/**
 * What the soak watches of the processes: the coordinators' resident memory over time, and their
 * downstream children (every pid ever seen, so none may outlive the run).
 */
import { readFileSync } from 'node:fs';
import { commandLine } from '../procs.js';
import { childrenOf, isAlive } from '../coordinator-process.js';

/** Current resident set size (VmRSS) in MB; undefined once the process is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A coordinator's live downstream servers (the fixtures it spawned; not its orphan watchdog). */
export function downstreamsOf(pid: number): number[] {
  return childrenOf(pid).filter((c) => isAlive(c) && /(tool|modern)-server\.mjs/.test(commandLine(c)));
}

export interface RssSeries {
  /** Per sample: the largest RSS among the coordinators, MB. */
  readonly samples: number[];
  /** RSS of each coordinator at the start (right after the warm-up calls), and the latest. */
  readonly start: Map<number, number>;
  readonly last: Map<number, number>;
  peak: number;
}

/**
 * Samples every `everyMs` until stopped: RSS of each coordinator and the pids of their children
 * (into `seenChildren`, for the orphan check after exit).
 */
export function watchProcesses(coordinators: readonly number[], everyMs: number, seenChildren: Set<number>) {
  const series: RssSeries = { samples: [], start: new Map(), last: new Map(), peak: 0 };
  const sample = () => {
    let largest = 0;
    for (const pid of coordinators) {
      const mb = rssMb(pid);
      if (mb === undefined) continue;
      series.last.set(pid, mb);
      largest = Math.max(largest, mb);
      for (const child of downstreamsOf(pid)) seenChildren.add(child);
    }
    series.samples.push(largest);
    series.peak = Math.max(series.peak, largest);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    series,
    /** The start of the run proper: what the end is compared with. */
    markStart: () => {
      for (const pid of coordinators) {
        const mb = rssMb(pid);
        if (mb !== undefined) series.start.set(pid, mb);
      }
    },
    stop: () => {
      clearInterval(timer);
      sample();
      return series;
    },
  };
}
