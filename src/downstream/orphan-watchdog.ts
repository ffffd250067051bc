/**
 * The last line against orphans. Children lead their own process groups (so a shutdown can reach
 * their grandchildren), which also means nothing ends them when the coordinator is killed with
 * SIGKILL: no exit handler runs, and a server that ignores stdin EOF lives on. So a tiny `sh`
 * watchdog holds the list of live groups, fed through a pipe; the coordinator dying, however,
 * closes that pipe, and the watchdog then SIGKILLs every group still on its list and exits.
 *
 * POSIX only (no `sh` and no process groups on Windows: there the README says so). If the
 * watchdog cannot start, the coordinator works as before, without this guarantee.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const SCRIPT = `
set -f
groups=" "
while IFS=' ' read -r op id; do
  case "$op" in
    add) groups="$groups$id " ;;
    del) groups=$(printf '%s' "$groups" | sed "s/ $id / /") ;;
  esac
done
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
`;

export class OrphanWatchdog {
  private child: ChildProcess | undefined;
  private failed = false;

  /** Whether a watchdog is running (false on Windows, or when `sh` could not be started). */
  get active(): boolean {
    return this.child !== undefined && !this.failed;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  add(pgid: number): void {
    this.send(`add ${pgid}`);
  }

  delete(pgid: number): void {
    this.send(`del ${pgid}`);
  }

  private send(line: string): void {
    const child = this.ensure();
    if (!child?.stdin?.writable) return;
    child.stdin.write(`${line}\n`);
  }

  private ensure(): ChildProcess | undefined {
    if (this.child || this.failed || process.platform === 'win32') return this.child;
    try {
      // Its own group: a Ctrl-C meant for the coordinator must not end the watchdog first.
      const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      child.on('error', () => (this.failed = true));
      child.on('exit', () => (this.failed = true));
      child.stdin?.on('error', () => (this.failed = true));
      // Neither the process nor its pipe may keep the coordinator's event loop alive.
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      this.child = child;
    } catch {
      this.failed = true;
    }
    return this.child;
  }
}
