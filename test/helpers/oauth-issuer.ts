/** The test-only OAuth issuer (test/fixtures/oauth-issuer.mjs) as a child process on loopback. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ISSUER_FIXTURE = fileURLToPath(new URL('../fixtures/oauth-issuer.mjs', import.meta.url));

export interface Issuer {
  url: string;
  child: ChildProcess;
  token(body: Record<string, unknown>): Promise<string>;
  stats(): Promise<Record<string, number>>;
}

export async function startIssuer(...args: string[]): Promise<Issuer> {
  const child = spawn(process.execPath, [ISSUER_FIXTURE, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`issuer did not start: ${err}`)), 8_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const match = /listening (\d+)/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`issuer exited (${code}): ${err}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    child,
    async token(body) {
      const res = await fetch(`${url}/token`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 200);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async stats() {
      return (await (await fetch(`${url}/stats`)).json()) as Record<string, number>;
    },
  };
}
