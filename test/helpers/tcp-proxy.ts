/**
 * A loopback TCP proxy in front of a port, that a test stops (every connection through it cut,
 * new ones refused) and starts again on the same port: a network link going down and coming back.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './redis-server.js';

export interface TcpProxy {
  readonly port: number;
  readonly running: boolean;
  start(): Promise<void>;
  /** Stop listening and cut every open connection. */
  stop(): Promise<void>;
}

/** Started unless `started: false` (then its port refuses until start()). */
export async function tcpProxy(
  targetPort: number,
  options: { host?: string; started?: boolean } = {},
): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const proxy: TcpProxy = {
    port,
    get running() {
      return server !== undefined;
    },
    async start() {
      if (server) return;
      const s = createServer((client) => {
        const upstream = connect(targetPort, host);
        sockets.add(client).add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  if (options.started !== false) await proxy.start();
  return proxy;
}
