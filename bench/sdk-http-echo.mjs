#!/usr/bin/env node
/* global process, URL, Request, Headers, Buffer */
// The baseline of the bench's http section: the v2 SDK's own Streamable HTTP serving
// (`createMcpHandler`, both eras, its defaults) on plain node:http, answering the echo tool of
// test/fixtures/tool-server.mjs itself (same name, schema and result) — no hop behind it.
// Flags: --port P (0: a free one). Prints `listening http://127.0.0.1:P` on stderr.
import { createServer } from 'node:http';
import { createMcpHandler, Server } from '@modelcontextprotocol/server';

const i = process.argv.indexOf('--port');
const port = Number(i >= 0 ? process.argv[i + 1] : '0');

const ECHO = {
  name: 'echo',
  description: 'Echo the text back',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  annotations: { readOnlyHint: true },
};

/** A fresh low-level Server per request, as createMcpHandler asks of its factory. */
function echoServer() {
  const server = new Server({ name: 'sdk-http-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', async () => ({ tools: [ECHO] }));
  server.setRequestHandler('tools/call', async (request) => {
    if (request.params.name !== 'echo') throw new Error(`unknown tool ${request.params.name}`);
    return { content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }] };
  });
  return server;
}

const handler = createMcpHandler(echoServer);

const http = createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host}`), {
      method: req.method,
      headers,
      ...(body.length > 0 && { body }),
    });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  } catch (error) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
});
http.listen(port, '127.0.0.1', () => {
  process.stderr.write(`listening http://127.0.0.1:${http.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
