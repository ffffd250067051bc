#!/usr/bin/env node
import { run } from './cli/entry.js';
import { describeFatal } from './cli/fatal.js';

run(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mcp-coordinator: ${describeFatal(error)}\n`);
    process.exitCode = 1;
  },
);
