#!/usr/bin/env node
// The honest naive hop the bench compares against: what a developer writes in an afternoon with
// the SDK. One SDK Client per configured stdio server, one low-level SDK Server upstream;
// tools/list fans out to every client, tools/call is forwarded by its `<id>__` prefix.
// Usage: node bench/naive-proxy.mjs --config mcp-servers.json   ({ "mcpServers": { id: { command, args, env } } })
/* global process */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

const SEPARATOR = '__';
const configIndex = process.argv.indexOf('--config');
if (configIndex < 0) {
  process.stderr.write('usage: naive-proxy.mjs --config FILE\n');
  process.exit(2);
}
const { mcpServers } = JSON.parse(readFileSync(process.argv[configIndex + 1], 'utf8'));

/** @type {Map<string, Client>} */
const clients = new Map();
await Promise.all(
  Object.entries(mcpServers).map(async ([id, spec]) => {
    const client = new Client({ name: 'naive-proxy', version: '0.0.0' });
    const transport = new StdioClientTransport({
      command: spec.command,
      args: spec.args ?? [],
      env: { ...getDefaultEnvironment(), ...spec.env },
      stderr: 'inherit',
    });
    await client.connect(transport);
    clients.set(id, client);
  }),
);

const server = new Server({ name: 'naive-proxy', version: '0.0.0' }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => {
  const lists = await Promise.all(
    [...clients].map(async ([id, client]) => {
      const tools = [];
      let cursor;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        tools.push(...page.tools.map((t) => ({ ...t, name: `${id}${SEPARATOR}${t.name}` })));
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    }),
  );
  return { tools: lists.flat() };
});

server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
  const { name } = request.params;
  const at = name.indexOf(SEPARATOR);
  const client = at > 0 ? clients.get(name.slice(0, at)) : undefined;
  if (!client) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  return client.callTool({ ...request.params, name: name.slice(at + SEPARATOR.length) }, undefined, {
    signal: extra.signal,
  });
});

const shutdown = async () => {
  await Promise.allSettled([...clients.values()].map((c) => c.close()));
  process.exit(0);
};
process.stdin.on('end', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
await server.connect(new StdioServerTransport());
