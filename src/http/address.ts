/** `http.listen` / `serve --http` values: `HOST:PORT`, `:PORT`, `PORT`, `[::1]:PORT`. */
import { isIP } from 'node:net';
import { LISTEN } from '../config/schema.js';
import { UsageError } from '../cli/args.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_HOST = '127.0.0.1';

export function parseListen(spec: string): ListenAddress {
  const match = LISTEN.exec(spec.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65_535)) {
    throw new UsageError(`--http: "${spec}" is not HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8766)`);
  }
  const host = (match[1] ?? DEFAULT_HOST).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** Only this machine can reach it. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** `http://host:port` as a client would write it. */
export function originOf(address: ListenAddress): string {
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}
