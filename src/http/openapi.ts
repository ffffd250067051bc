/**
 * `/api/openapi.json`: OpenAPI 3.1, built from the face's own route table (paths, methods, scopes,
 * bodies as JSON Schema from the zod schemas the routes parse with), so it cannot drift from them.
 */
import { z } from 'zod';
import type { Route } from './rest.js';

const ERROR = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = (route.query ?? []).map((name) => ({
      name,
      in: 'query',
      required: false,
      schema: { type: 'string' },
    }));
    const produces = route.produces ?? 'application/json';
    const operation: Record<string, unknown> = {
      summary: route.summary ?? `${route.method} ${route.path}`,
      operationId: operationId(route),
      ...(params.length + query.length > 0 && { parameters: [...params, ...query] }),
      ...(route.scope === undefined ? { security: [] } : { 'x-required-scope': route.scope }),
      ...(route.body && {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(route.body) } },
        },
      }),
      responses: {
        '200': {
          description: 'OK',
          content: {
            [produces]: { schema: produces === 'application/json' ? { type: 'object' } : { type: 'string' } },
          },
        },
        default: {
          description: 'An error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mcp-coordinator',
      version,
      description: 'The REST face of mcp-coordinator; MCP itself is served at /mcp (Streamable HTTP).',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key of http.auth.keys, or an OAuth access token',
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Error: ERROR },
    },
    paths,
  };
}

function operationId(route: Route): string {
  const words = route.path
    .split(/[/{}.-]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)));
  return `${route.method.toLowerCase()}${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
  }) as Record<string, unknown>;
  return rest;
}
