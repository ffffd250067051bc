/** Small builders of downstream snapshots for the catalog tests. */
import type {
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/server';
import type { DownstreamSnapshot } from '../../../src/downstream/types.js';
import type { CatalogSource, NamespaceOptions } from '../../../src/catalog/index.js';

export const NS: NamespaceOptions = { separator: '__', maxLength: 64 };

export function tool(name: string, extra: Partial<Tool> = {}): Tool {
  return { name, description: `does ${name}`, inputSchema: { type: 'object' }, ...extra };
}

export function prompt(name: string, extra: Partial<Prompt> = {}): Prompt {
  return { name, description: `prompt ${name}`, ...extra };
}

export function resource(uri: string, extra: Partial<Resource> = {}): Resource {
  return { uri, name: uri, ...extra };
}

export function template(uriTemplate: string, extra: Partial<ResourceTemplate> = {}): ResourceTemplate {
  return { uriTemplate, name: uriTemplate, ...extra };
}

export function snapshot(parts: Partial<DownstreamSnapshot> = {}): DownstreamSnapshot {
  return {
    serverInfo: { name: 'test', version: '1.0.0' },
    capabilities: { tools: {}, prompts: {}, resources: {} },
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    ...parts,
  };
}

/** A source with the given tools (by name) and any other snapshot parts. */
export function source(
  serverId: string,
  toolNames: string[],
  rest: Omit<Partial<CatalogSource>, 'snapshot'> & { snapshot?: Partial<DownstreamSnapshot> } = {},
): CatalogSource {
  const { snapshot: parts, ...options } = rest;
  return { serverId, ...options, snapshot: snapshot({ tools: toolNames.map((n) => tool(n)), ...parts }) };
}
