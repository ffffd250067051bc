/**
 * A real redis-server for tests: started on a free loopback port, nothing on disk unless asked,
 * stopped afterwards. No mocks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kill it (SIGKILL: a crash, not a clean shutdown). */
  kill(): Promise<void>;
  /** Start it again on the same port and data dir (after kill()). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.write('PING\r\n');
      });
      sock.once('data', (buf) => {
        sock.destroy();
        resolve(buf.toString().startsWith('+PONG'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface StartRedisOptions {
  /** appendonly yes + appendfsync always: acknowledged writes survive a kill. */
  aof?: boolean;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-redis-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    args.push('--appendonly', options.aof ? 'yes' : 'no');
    if (options.aof) args.push('--appendfsync', 'always');
    child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`redis-server exited early (${code})`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 10_000), exited]);
  };
  const killChild = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => killChild('SIGKILL'),
    restart: launch,
    stop: async () => {
      await killChild('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
