/**
 * Real multi-node Redis for tests, on free loopback ports, nothing kept on disk afterwards:
 * a Cluster of three masters (each with one replica, so a killed master fails over), and a
 * Sentinel group (one master, one replica, one sentinel). Timeouts are cut to the bone so a
 * failover takes a second or two, not the production default of half a minute. No mocks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort, waitForPort } from './redis-server.js';

const run = promisify(execFile);

interface Node {
  readonly port: number;
  child: ChildProcess | undefined;
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`redis-server :${port} exited early (${code})`))),
  );
  exited.catch(() => {});
  await Promise.race([waitForPort(port, 10_000), exited]);
  return child;
}

async function killNode(node: Node, signal: NodeJS.Signals): Promise<void> {
  const c = node.child;
  node.child = undefined;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill(signal);
  });
}

/** `redis-cli -p port args…`, its output trimmed. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisCluster {
  /** Seed URLs of the masters, for `{ cluster: urls }`. */
  readonly urls: string[];
  /** The port of the master serving `key`'s slot right now. */
  masterOf(key: string): Promise<number>;
  /** The port of a replica of the master on `port`. */
  replicaOf(port: number): Promise<number>;
  /** SIGKILL one node (a crash). */
  kill(port: number): Promise<void>;
  /** Until every live node reports cluster_state:ok and no slot is served by a dead node. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3, replicasPerMaster = 1): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-cluster-'));
  const count = masters * (1 + replicasPerMaster);
  const nodes: Node[] = [];
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  await Promise.all(
    [...ports].map(async (port) => {
      const node: Node = { port, child: undefined };
      nodes.push(node);
      node.child = await launch(
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          // Fast failure detection: a dead master is replaced in about two seconds.
          '--cluster-node-timeout',
          '1000',
          '--cluster-replica-validity-factor',
          '0',
          // Replicas sync at once instead of after the default five-second diskless delay.
          '--repl-diskless-sync-delay',
          '0',
        ],
        port,
      );
    }),
  );
  nodes.sort((a, b) => a.port - b.port);
  await run('redis-cli', [
    '--cluster',
    'create',
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas',
    String(replicasPerMaster),
    '--cluster-yes',
  ]);
  const live = () => nodes.filter((n) => n.child !== undefined);
  const cluster: RedisCluster = {
    urls: nodes.slice(0, masters).map((n) => `redis://127.0.0.1:${n.port}`),
    masterOf: async (key) => {
      const slot = Number(await cli(live()[0]!.port, 'CLUSTER', 'KEYSLOT', key));
      const { stdout } = await run('redis-cli', [
        '-p',
        String(live()[0]!.port),
        '--json',
        'CLUSTER',
        'SLOTS',
      ]).catch(async () => ({ stdout: '' }));
      if (stdout) {
        const ranges = JSON.parse(stdout) as Array<[number, number, [string, number, string]]>;
        const hit = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (hit) return Number(hit[2][1]);
      }
      // redis-cli without --json: parse `CLUSTER NODES` instead.
      const lines = (await cli(live()[0]!.port, 'CLUSTER', 'NODES')).split('\n');
      for (const line of lines) {
        const parts = line.split(' ');
        if (!parts[2]?.includes('master') || parts[2].includes('fail')) continue;
        for (const range of parts.slice(8)) {
          const [from, to = from] = range.split('-').map(Number);
          if (slot >= from! && slot <= to!) return Number(parts[1]!.split(':')[1]!.split('@')[0]);
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    replicaOf: async (port) => {
      const lines = (await cli(port, 'CLUSTER', 'NODES')).split('\n').map((l) => l.split(' '));
      const id = lines.find((parts) => parts[2]?.includes('myself'))?.[0];
      const replica = lines.find((parts) => parts[3] === id && parts[2]?.includes('slave'));
      if (!replica) throw new Error(`no replica of :${port}`);
      return Number(replica[1]!.split(':')[1]!.split('@')[0]);
    },
    kill: async (port) => {
      const node = nodes.find((n) => n.port === port);
      if (node) await killNode(node, 'SIGKILL');
    },
    waitHealthy: async (timeoutMs = 15_000) => {
      await until('a healthy cluster', timeoutMs, async () => {
        for (const node of live()) {
          const info = await cli(node.port, 'CLUSTER', 'INFO');
          if (!info.includes('cluster_state:ok')) return false;
        }
        const deadPorts = new Set(nodes.filter((n) => n.child === undefined).map((n) => n.port));
        const lines = (await cli(live()[0]!.port, 'CLUSTER', 'NODES')).split('\n');
        return lines.every((line) => {
          const parts = line.split(' ');
          const port = Number(parts[1]?.split(':')[1]?.split('@')[0]);
          const servesSlots = parts[2]?.includes('master') && parts.length > 8;
          return !(servesSlots && deadPorts.has(port));
        });
      });
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => killNode(n, 'SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  // Every replica linked, so a master killed from now on can fail over.
  await until('the replicas in sync', 15_000, async () => {
    for (const node of nodes) {
      const info = await cli(node.port, 'INFO', 'replication');
      if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
    }
    return true;
  });
  return cluster;
}

export interface RedisSentinelGroup {
  readonly name: string;
  /** `host:port` of each sentinel, for `{ sentinels, name }`. */
  readonly sentinels: string[];
  readonly masterPort: number;
  readonly replicaPort: number;
  /** The port the sentinels currently call master. */
  currentMaster(): Promise<number>;
  /** SIGKILL the current master (a crash). */
  killMaster(): Promise<number>;
  /** Until the sentinels name a master other than `port` and it answers as a master. */
  waitFailover(fromPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(name = 'mymaster'): Promise<RedisSentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-coord-sentinel-'));
  const masterPort = await freePort();
  let replicaPort = await freePort();
  while (replicaPort === masterPort) replicaPort = await freePort();
  let sentinelPort = await freePort();
  while (sentinelPort === masterPort || sentinelPort === replicaPort) sentinelPort = await freePort();
  const base = (port: number) => [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
    ...['--repl-diskless-sync-delay', '0'],
  ];
  const master: Node = { port: masterPort, child: await launch(base(masterPort), masterPort) };
  const replica: Node = {
    port: replicaPort,
    child: await launch([...base(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)], replicaPort),
  };
  await until('the replica in sync', 10_000, async () =>
    (await cli(replicaPort, 'INFO', 'replication')).includes('master_link_status:up'),
  );
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 400`,
      `sentinel failover-timeout ${name} 2000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const sentinel: Node = {
    port: sentinelPort,
    child: await launch([conf, '--sentinel'], sentinelPort),
  };
  const currentMaster = async () => {
    const reply = await cli(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', name);
    return Number(reply.split('\n')[1]);
  };
  // The sentinel learns the replica from the master's INFO; until then it cannot fail over.
  await until('the sentinel to see the replica', 15_000, async () => {
    const replicas = await cli(sentinelPort, 'SENTINEL', 'replicas', name);
    return replicas.includes(String(replicaPort)) && !replicas.includes('s_down');
  });
  const nodes = [master, replica];
  return {
    name,
    sentinels: [`127.0.0.1:${sentinelPort}`],
    masterPort,
    replicaPort,
    currentMaster,
    killMaster: async () => {
      const port = await currentMaster();
      const node = nodes.find((n) => n.port === port);
      if (node) await killNode(node, 'SIGKILL');
      return port;
    },
    waitFailover: async (fromPort, timeoutMs = 15_000) => {
      let port = fromPort;
      await until('a Sentinel failover', timeoutMs, async () => {
        port = await currentMaster();
        if (port === fromPort) return false;
        return (await cli(port, 'ROLE')).startsWith('master');
      });
      return port;
    },
    stop: async () => {
      await Promise.all([sentinel, ...nodes].map((n) => killNode(n, 'SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
