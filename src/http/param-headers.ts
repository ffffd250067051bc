/**
 * SEP-2243 `Mcp-Param-*` headers on a modern `tools/call`. A tool whose inputSchema marks a
 * property `x-mcp-header: Name` has its clients mirror that argument into an `Mcp-Param-Name`
 * header (plain, or `=?base64?…?=`); the server MUST refuse a call whose header is missing or says
 * something else than the body: 400 with -32020 (HeaderMismatch). The SDK checks this only for the
 * tools of its own McpServer (and does not export the check); the coordinator's tools are
 * forwarded JSON Schemas, so it checks them here, against the merged catalog, before the SDK
 * serves the call. Same rules as the SDK's: only properties reachable through `properties`,
 * primitive values, a null or absent body value expects no header.
 */
import type { Tool } from '@modelcontextprotocol/server';
import type { Catalog } from '../catalog/types.js';

export const HEADER_MISMATCH = -32020;

interface Declaration {
  path: string[];
  header: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'number', 'boolean']);
const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** The declarations of one schema, through `properties` only (elsewhere they are not allowed). */
function declarationsOf(schema: unknown, path: string[] = [], out: Declaration[] = []): Declaration[] {
  if (typeof schema !== 'object' || schema === null) return out;
  const node = schema as Record<string, unknown>;
  const header = node['x-mcp-header'];
  if (path.length > 0 && typeof header === 'string' && TOKEN.test(header)) {
    if (typeof node.type === 'string' && PRIMITIVE.has(node.type)) out.push({ path, header });
  }
  const properties = node.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const [key, child] of Object.entries(properties)) declarationsOf(child, [...path, key], out);
  }
  return out;
}

/** Per catalog: the tools that declare any header (usually none), by exposed name. */
const byCatalog = new WeakMap<Catalog, Map<string, Declaration[]>>();

function declarationsFor(catalog: Catalog, toolName: string): Declaration[] | undefined {
  let tools = byCatalog.get(catalog);
  if (!tools) {
    tools = new Map();
    for (const tool of catalog.tools as readonly Tool[]) {
      if (!JSON.stringify(tool.inputSchema).includes('"x-mcp-header"')) continue;
      const found = declarationsOf(tool.inputSchema);
      if (found.length > 0) tools.set(tool.name, found);
    }
    byCatalog.set(catalog, tools);
  }
  return tools.get(toolName);
}

function asHeaderText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The header's value as text; undefined: a sentinel whose payload is not canonical Base64/UTF-8. */
function decode(value: string): string | undefined {
  if (!value.startsWith(SENTINEL_PREFIX) || !value.endsWith(SENTINEL_SUFFIX)) return value;
  const payload = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!BASE64_CANONICAL.test(payload)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(payload, 'base64'));
  } catch {
    return undefined;
  }
}

function valueAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The 400 for a tools/call (a single request in `parsed`) whose `Mcp-Param-*` headers disagree with
 * its arguments; undefined for everything else.
 */
export function refuseParamHeaderMismatch(
  catalog: Catalog,
  parsed: unknown,
  headers: Headers,
): Response | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const message = parsed as {
    method?: unknown;
    id?: unknown;
    params?: { name?: unknown; arguments?: unknown };
  };
  if (message.method !== 'tools/call') return undefined;
  const mismatch = paramHeaderMismatch(catalog, message.params, headers);
  if (!mismatch) return undefined;
  const error = {
    code: HEADER_MISMATCH,
    message: `Bad Request: the request headers and body disagree: ${mismatch.message}`,
    data: { mismatch: { header: mismatch.header } },
  };
  return Response.json({ jsonrpc: '2.0', id: message.id ?? null, error }, { status: 400 });
}

/** Why a tools/call's `Mcp-Param-*` headers disagree with its arguments; undefined when they agree. */
export function paramHeaderMismatch(
  catalog: Catalog,
  params: { name?: unknown; arguments?: unknown } | undefined,
  headers: Headers,
): { header: string; message: string } | undefined {
  if (typeof params?.name !== 'string') return undefined;
  const declarations = declarationsFor(catalog, params.name);
  if (!declarations) return undefined;
  for (const { path, header } of declarations) {
    const name = `Mcp-Param-${header}`;
    const body = valueAt(params.arguments, path);
    const expected = asHeaderText(body);
    if (expected === undefined) continue;
    const sent = headers.get(name);
    const where = path.join('.');
    if (sent === null)
      return { header: name, message: `the body carries ${where} but the ${name} header is absent` };
    const decoded = decode(sent);
    if (decoded === undefined) return { header: name, message: `the ${name} header is not valid Base64` };
    const equal =
      typeof body === 'number' && DECIMAL.test(decoded) ? Number(decoded) === body : decoded === expected;
    if (!equal)
      return {
        header: name,
        message: `the ${name} header says ${JSON.stringify(decoded)}, the body ${where}=${JSON.stringify(body)}`,
      };
  }
  return undefined;
}
