#!/usr/bin/env node
// The same naive hop as naive-proxy.mjs, on the v2 SDK: what the afternoon's proxy costs once it
// moves to @modelcontextprotocol/server and /client, with their stock stdio transports and
// nothing of the coordinator (no catalog, routing, health, sessions or eras beyond the SDK's).
// It says how much of a v2 hop's cost is the SDK's own. Same usage and config as naive-proxy.mjs.
/* global process */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { ProtocolError, ProtocolErrorCode, Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const SEPARATOR = '__';
const configIndex = process.argv.indexOf('--config');
if (configIndex < 0) {
  process.stderr.write('usage: naive-proxy-v2.mjs --config FILE\n');
  process.exit(2);
}
const { mcpServers } = JSON.parse(readFileSync(process.argv[configIndex + 1], 'utf8'));

/** @type {Map<string, Client>} */
const clients = new Map();
await Promise.all(
  Object.entries(mcpServers).map(async ([id, spec]) => {
    const client = new Client({ name: 'naive-proxy-v2', version: '0.0.0' });
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

const server = new Server({ name: 'naive-proxy-v2', version: '0.0.0' }, { capabilities: { tools: {} } });

server.setRequestHandler('tools/list', async () => {
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

server.setRequestHandler('tools/call', async (request, ctx) => {
  const { name } = request.params;
  const at = name.indexOf(SEPARATOR);
  const client = at > 0 ? clients.get(name.slice(0, at)) : undefined;
  if (!client) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  return client.callTool(
    { ...request.params, name: name.slice(at + SEPARATOR.length) },
    {
      signal: ctx.mcpReq.signal,
    },
  );
});

const shutdown = async () => {
  await Promise.allSettled([...clients.values()].map((c) => c.close()));
  process.exit(0);
};
process.stdin.on('end', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
await server.connect(new StdioServerTransport());
