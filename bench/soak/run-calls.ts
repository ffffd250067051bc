/**
 * The load: `total` calls spread over every client, `workers` in flight per client, a mix of
 * echo on the two steady servers (legacy and modern), echo on the crashing server, and
 * lock/unlock cycles on a few shared files (through Redis), checked for double grants.
 */
import type { SoakClient } from './clients.js';
import type { Tally, Target } from './tally.js';

export interface LoadOptions {
  total: number;
  workers: number;
  /** Called after every finished call with how many are done. */
  progress?: (done: number) => void;
  /** Every lock granted (`locked`) or released (`unlocked`) to client `index`: the tool's structured result. */
  onLock?: (kind: 'locked' | 'unlocked', index: number, result: Record<string, unknown>) => void;
}

const LOCK_FILES = ['shared/a.txt', 'shared/b.txt', 'shared/c.txt'];
const LOCK_TTL_MS = 5_000;

/**
 * Of every 20 calls: 2 to the crashing server, 4 lock cycles when worker 0 draws them (one lock
 * worker per client, so a client's own workers never share a grant), the rest echo.
 */
function pick(i: number, worker: number): Target {
  const slot = i % 20;
  if (slot < 2) return 'crashy';
  if (slot < 6 && worker === 0) return 'lock';
  return i % 2 === 0 ? 'steady' : 'modern';
}

export async function runCalls(clients: readonly SoakClient[], tally: Tally, options: LoadOptions) {
  let next = 0;
  let done = 0;
  /** file → index of the client that holds it, as the clients believe. */
  const holders = new Map<string, number>();
  const finish = () => options.progress?.(++done);

  const timed = async (target: Target, call: () => Promise<void>) => {
    const startedAt = performance.now();
    try {
      await call();
      tally.succeeded(target, startedAt);
    } catch (error) {
      tally.failed(target, (error as Error).message, Date.now());
    }
    finish();
  };

  const echo = (client: SoakClient, target: Target, text: string) =>
    timed(target, async () => {
      const res = await client.call(`${target}__echo`, { text });
      if (res.isError) throw new Error(`isError: ${res.text.slice(0, 200)}`);
      if (res.text !== text) throw new Error(`wrong answer: ${res.text.slice(0, 80)} for ${text}`);
    });

  const lockCycle = async (client: SoakClient, index: number, i: number) => {
    const file = LOCK_FILES[i % LOCK_FILES.length]!;
    let granted = false;
    await timed('lock', async () => {
      const res = await client.call('coordinator__lock_file', { file, ttlMs: LOCK_TTL_MS, reason: 'soak' });
      if (res.isError) {
        if (res.structured?.['locked'] === false && res.structured['holder']) tally.lockRefusals++;
        else throw new Error(`isError: ${res.text.slice(0, 200)}`);
        return;
      }
      granted = true;
      options.onLock?.('locked', index, res.structured ?? {});
      const holder = holders.get(file);
      if (holder !== undefined && holder !== index) tally.doubleGrants++;
      holders.set(file, index);
    });
    if (!granted) return;
    // Forgotten before the release is sent: a grant to another client after this is no double.
    holders.delete(file);
    next++;
    await timed('lock', async () => {
      const res = await client.call('coordinator__unlock_file', { file });
      if (res.isError) throw new Error(`isError: ${res.text.slice(0, 200)}`);
      if (res.structured?.['unlocked'] === true) options.onLock?.('unlocked', index, res.structured);
    });
  };

  const worker = async (client: SoakClient, index: number, w: number) => {
    for (;;) {
      const i = next++;
      if (i >= options.total) return;
      const target = pick(i, w);
      if (target === 'lock') await lockCycle(client, index, i);
      else await echo(client, target, `c${index}w${w}#${i}`);
    }
  };

  await Promise.all(
    clients.flatMap((client, index) =>
      Array.from({ length: options.workers }, (_, w) => worker(client, index, w)),
    ),
  );
}
