/**
 * Built-in tools live in the `coordinator` namespace. Each is a plain definition plus a handler;
 * the catalog exposes them like any server's tools and tools/call dispatches here by original name.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';

export interface BuiltinContext {
  signal?: AbortSignal;
  /** The calling session's agent. */
  agentId?: string;
  /** Which session of that agent holds what it locks or claims (see UpstreamSession.owner). */
  owner?: string;
}

export interface BuiltinTool {
  name: string;
  description: string;
  inputSchema: Tool['inputSchema'];
  handler(args: Record<string, unknown>, context: BuiltinContext): Promise<CallToolResult>;
}

export class BuiltinRegistry {
  private readonly byName = new Map<string, BuiltinTool>();

  add(...tools: BuiltinTool[]): this {
    for (const tool of tools) this.byName.set(tool.name, tool);
    return this;
  }

  get(name: string): BuiltinTool | undefined {
    return this.byName.get(name);
  }

  definitions(): Tool[] {
    return [...this.byName.values()].map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema,
    }));
  }
}

/** The contract's result shape: structuredContent plus the same JSON as text. */
export function jsonResult(value: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value,
    ...(isError && { isError: true }),
  };
}
