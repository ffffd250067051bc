/** argv → a command and its options. Bad usage is a UsageError (exit 2). */
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export const COMMANDS = ['serve', 'tools', 'call', 'aggregate', 'health', 'events', 'check'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command: CommandName;
  positionals: string[];
  values: {
    config?: string;
    json?: boolean;
    args?: string;
    target?: string;
    targets?: string;
    context?: string;
    follow?: boolean;
    type?: string;
    since?: string;
    help?: boolean;
  };
}

export const USAGE = `Usage: mcp-coordinator [command] [options]

Commands:
  serve                      the stdio MCP server (default)
  tools [--json]             the merged catalog
  call NAME [--args JSON] [--target ID] [--context JSON]
                             one routed call; result JSON on stdout
  aggregate TOOL [--args JSON] [--targets a,b]
                             the same call on every server that has TOOL, in parallel
  health [--json]            overall, each server and Redis
  events [--follow] [--type GLOB] [--since ID|TIME]
                             coordination events as JSON lines
  check                      validate the config and exit

Options:
  --config FILE              config file (else $MCP_COORDINATOR_CONFIG, else ./servers.yml)
  -h, --help                 this text

Exit codes: 0 success, 1 a call or server failed, 2 bad usage or bad config.`;

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        args: { type: 'string' },
        target: { type: 'string' },
        targets: { type: 'string' },
        context: { type: 'string' },
        follow: { type: 'boolean' },
        type: { type: 'string' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const [first, ...rest] = parsed.positionals;
  const command = (first ?? 'serve') as CommandName;
  if (!COMMANDS.includes(command)) throw new UsageError(`Unknown command: ${first}`);
  return { command, positionals: rest, values: parsed.values };
}

/** A JSON object option (--args, --context). */
export function jsonObjectOption(
  value: string | undefined,
  flag: string,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(
      `${flag} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${flag} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
