#!/usr/bin/env node
// The floor of any stdio hop: bytes from our stdin to one child's stdin and from its stdout to
// ours, with no parsing, no framing and no MCP. Whatever a proxy written in Node costs above
// this, it costs in its own work; what this costs is two more pipe transits and two more
// event-loop wake-ups per message. A bench contestant for the one-server figures only.
//
// Usage: node bench/byte-relay.mjs COMMAND [ARGS...]
/* global process */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: byte-relay.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 1));
child.stdin.on('error', () => {});
const stop = () => child.kill('SIGTERM');
process.stdin.on('end', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
