/**
 * A TLS-only redis-server for tests: a throwaway CA and server certificate made with `openssl`
 * in a temp dir, `--port 0 --tls-port P`, clients not asked for a certificate. Also a second,
 * unrelated CA, and a server certificate that names another host, for the failure cases.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';

import { freePort } from './redis-server.js';

const run = promisify(execFile);

export interface TestPki {
  readonly dir: string;
  /** PEM file of the CA that signed the server certificates. */
  readonly caFile: string;
  /** PEM file of another CA, which signed nothing the servers use. */
  readonly otherCaFile: string;
  /** Key and certificate for 127.0.0.1 and localhost, signed by the CA. */
  readonly server: { key: string; cert: string };
  /** Key and certificate for `elsewhere.invalid` only, signed by the CA. */
  readonly wrongName: { key: string; cert: string };
  remove(): void;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'],
    ...['-subj', `/CN=${name} test CA`, '-keyout', `${name}.key`, '-out', `${name}.pem`],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
}

async function makeServerCert(dir: string, name: string, altNames: string, caName: string): Promise<void> {
  await openssl(
    dir,
    ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`],
  );
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`);
  await openssl(
    dir,
    ...['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`],
    ...['-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`],
  );
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-tls-'));
  await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
  await makeServerCert(dir, 'server', 'IP:127.0.0.1,DNS:localhost', 'ca');
  await makeServerCert(dir, 'wrong-name', 'DNS:elsewhere.invalid', 'ca');
  const pair = (name: string) => ({ key: join(dir, `${name}.key`), cert: join(dir, `${name}.pem`) });
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    server: pair('server'),
    wrongName: pair('wrong-name'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsRedis {
  readonly port: number;
  /** `rediss://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

/** redis-server listening on TLS only, with `cert` (its chain ends at the PKI's CA). */
export async function startTlsRedis(pki: TestPki, cert = pki.server): Promise<TlsRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-redis-tls-'));
  const child: ChildProcess = spawn(
    'redis-server',
    [
      ...['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1'],
      ...['--tls-cert-file', cert.cert, '--tls-key-file', cert.key, '--tls-ca-cert-file', pki.caFile],
      ...['--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`redis-server (TLS) exited early (${code})`))),
  );
  exited.catch(() => {});
  await Promise.race([waitForTls(port, readFileSync(pki.caFile), cert === pki.server), exited]);
  return {
    port,
    url: `rediss://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Until a TLS PING on `port` answers PONG (the name is checked only for a certificate that has it). */
async function waitForTls(port: number, ca: Buffer, checkName: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tlsConnect({
        host: '127.0.0.1',
        port,
        ca,
        ...(checkName ? {} : { checkServerIdentity: () => undefined }),
      });
      sock.once('secureConnect', () => sock.write('PING\r\n'));
      sock.once('data', (buf: Buffer) => {
        sock.destroy();
        resolve(buf.toString().startsWith('+PONG'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer TLS on port ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
