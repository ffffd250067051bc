/**
 * The process groups of the stdio children a pool has spawned and not yet seen die.
 *
 * Every child is spawned `detached`, so it leads its own group and never gets the terminal's
 * signals: the coordinator is the only one who can end it. This registry is what makes that true
 * even on an abrupt exit — the app calls `killAllSync()` from `process.on('exit')`, where nothing
 * asynchronous can run any more — and, through the `OrphanWatchdog`, even when the coordinator is
 * killed with SIGKILL. Owned by the pool; not a module-level singleton.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { OrphanWatchdog } from './orphan-watchdog.js';

export class ChildGroups {
  private readonly groups = new Set<number>();

  constructor(private readonly watchdog: OrphanWatchdog | undefined = new OrphanWatchdog()) {}

  add(pgid: number): void {
    this.groups.add(pgid);
    this.watchdog?.add(pgid);
  }

  delete(pgid: number): void {
    if (this.groups.delete(pgid)) this.watchdog?.delete(pgid);
  }

  get size(): number {
    return this.groups.size;
  }

  /** SIGKILL every live group; synchronous so it is safe inside `process.on('exit')`. */
  killAllSync(): void {
    for (const pgid of this.groups) signalGroup(pgid, 'SIGKILL');
    this.groups.clear();
  }
}

/** Signals a whole process group; false when no member is left (ESRCH). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // EPERM means a member exists that we may not signal: still "alive" for our purposes.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether any member of the group is still running. Zombies do not count: they have exited and
 * only wait for a parent to reap them, and orphans wait on PID 1 — which in a container may reap
 * late or never, and would otherwise make every shutdown sit out its full SIGTERM grace.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = procStat(entry);
      if (fields && fields[2] === String(pgid) && fields[0] !== 'Z') return true;
    }
    return false;
  } catch {
    return true;
  }
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, … */
function procStat(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // exited while we looked
  }
}
