/**
 * `init`: a commented starter servers.yml that works from an installed package (the clone's own
 * servers.yml points into node_modules and sandbox/, which an installed package does not have).
 */
import { writeFile } from 'node:fs/promises';
import { UsageError } from './args.js';

export const STARTER_CONFIG = `# mcp-coordinator: the MCP servers it starts (stdio) or connects to (url), merged into one.
# Every tool is exposed as <server id>__<tool name>, e.g. memory__read_graph.
# Check this file with \`mcp-coordinator check\`; list the tools with \`mcp-coordinator tools\`.
servers:
  # The reference "memory" server: a small knowledge graph kept in memory.json next to this file.
  # It needs nothing but Node: npx downloads it on the first run (a few seconds, needs the
  # npm registry once), later runs use npm's cache.
  memory:
    command: npx
    args: [-y, '@modelcontextprotocol/server-memory']
    env:
      MEMORY_FILE_PATH: '\${MEMORY_FILE_PATH:-memory.json}'

  # More servers, the same way (or: mcp-coordinator add ID -- COMMAND ARGS...):
  # filesystem:
  #   command: npx
  #   args: [-y, '@modelcontextprotocol/server-filesystem', '.']
  # A remote server (Streamable HTTP; transport: sse for the legacy one):
  # docs:
  #   url: http://127.0.0.1:4100/mcp
  #   headers: { Authorization: 'Bearer \${DOCS_TOKEN}' }

coordination:
  # Empty: locks, tasks and events live inside this one process. Set REDIS_URL (or write a
  # redis:// URL here) so several coordinators share them.
  redis: \${REDIS_URL:-}
  # Optional durable record of events and tasks (a postgres:// URL); empty: none.
  postgres: \${DATABASE_URL:-}
`;

/** Writes the starter file; an existing file is kept unless `force`. */
export async function writeStarter(file: string, force: boolean): Promise<void> {
  try {
    await writeFile(file, STARTER_CONFIG, { flag: force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file} already exists; pass --force to overwrite it`, 'init');
    }
    throw error;
  }
}
