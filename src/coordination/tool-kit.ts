/**
 * What every `coordinator__*` tool is made of: a zod schema that both checks the arguments and
 * produces the advertised JSON Schema (so the two never drift apart), and the result shapes — a
 * granted or listed thing is a normal result, a refusal the agent must act on is `isError: true`
 * with the details.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { parseArgs } from './validate.js';

export interface CoordinationTool {
  /** Unprefixed, e.g. `lock_file`. */
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties?: Record<string, unknown>; required?: string[] };
  /**
   * `caller.agentId`: the calling session's agent (each client acts as itself); `caller.owner`:
   * which session of it (its owner token, see locks/types.ts), absent for an agent-level caller.
   */
  handler(args: unknown, caller?: ToolCaller): Promise<CallToolResult>;
}

export interface ToolCaller {
  agentId?: string;
  owner?: string;
}

export function defineTool<S extends z.ZodObject>(
  name: string,
  description: string,
  schema: S,
  run: (args: z.infer<S>, agent: string, owner: string | undefined) => Promise<CallToolResult>,
): CoordinationTool {
  const { $schema: _dialect, ...inputSchema } = z.toJSONSchema(schema, { io: 'input' });
  return {
    name,
    description,
    inputSchema: inputSchema as CoordinationTool['inputSchema'],
    handler: async (args, caller) => run(parseArgs(schema, args), caller?.agentId ?? '', caller?.owner),
  };
}

/** Most JSON a built-in list puts in one result; clients end a session over their message limit. */
export const MAX_LIST_RESULT_BYTES = 1024 * 1024;

/**
 * `{ [key]: items }`, or as many items as fit in `MAX_LIST_RESULT_BYTES` (twice: the result
 * carries its JSON as text as well) and a `truncated` note saying how many were left out.
 */
export function boundedList<T>(
  key: string,
  items: readonly T[],
  maxBytes = MAX_LIST_RESULT_BYTES,
): Record<string, unknown> {
  let bytes = 0;
  let shown = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes > maxBytes / 2) break;
    shown++;
  }
  if (shown === items.length) return { [key]: items };
  return {
    [key]: items.slice(0, shown),
    truncated: {
      shown,
      total: items.length,
      note: `only the first ${shown} of ${items.length} ${key} fit in one result`,
    },
  };
}

export function ok(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

/**
 * Why a holder refused someone: `holder` is the caller's own agent id only when another session
 * of it (another window or process started with the same agent id) holds the thing.
 */
export function heldByWhom(holder: string, caller: string): string {
  return holder === caller
    ? `held by the same agent id (${holder}) in another session or window; only that session can release it`
    : `held by another agent (${holder})`;
}

/** `isError: true` with the details; undefined fields (`ok: undefined`) are dropped. */
export function refused(body: Record<string, unknown>): CallToolResult {
  const clean = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  return { ...ok(clean), isError: true };
}
