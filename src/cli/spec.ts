/**
 * The command table (CONTRACT.md "Command line"): each command's usage line, what it does, the
 * options it takes and how many positionals. Help text is generated from it, and the parser
 * rejects an option a command does not take, so the two never disagree.
 */

export const OPTION_NAMES = [
  'config',
  'json',
  'args',
  'target',
  'targets',
  'context',
  'follow',
  'type',
  'since',
  'force',
  'url',
  'http',
  'token',
  'header',
  'help',
  'version',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

export interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly OptionName[];
  /** Positionals after the command name: fewest and most. */
  readonly positionals: readonly [min: number, max: number];
  /** Lines shown by `help COMMAND` after the usage. */
  readonly details?: readonly string[];
}

const CONFIG_LINE = '--config FILE   config file (else $MCP_COORDINATOR_CONFIG, else ./servers.yml)';

export const COMMAND_SPECS = {
  serve: {
    usage: 'serve [--http [HOST:]PORT] [--config FILE]',
    summary: 'the MCP server on stdio (the default command), or over HTTP for many clients',
    options: ['config', 'http'],
    positionals: [0, 0],
    details: [
      'stdio: stdout carries only MCP messages; logs go to stderr.',
      '--http 127.0.0.1:8766 (or http.listen in the config): MCP Streamable HTTP at /mcp for clients',
      'of both protocol eras, the REST API, /metrics. Without http.auth only loopback addresses are served.',
    ],
  },
  connect: {
    usage: 'connect URL [--token T] [--header K:V ...]',
    summary: 'stdio <-> HTTP bridge to a running coordinator (or any Streamable HTTP MCP server)',
    options: ['token', 'header'],
    positionals: [1, 1],
    details: [
      'An IDE entry that uses a running coordinator instead of spawning its own servers:',
      '  mcp-coordinator connect http://127.0.0.1:8766/mcp --token "$KEY"',
      '--token T       sent as Authorization: Bearer T (else $MCP_COORDINATOR_TOKEN)',
      '--header K:V    an extra HTTP header; repeatable',
      'Keys go in headers, never in the URL: a URL with user:password@ or ?key=/token= is refused.',
      'Clients of both protocol eras are bridged; when the coordinator restarts the bridge',
      'reconnects (re-opening a legacy session) and says so on stderr. stdout carries only MCP.',
    ],
  },
  tools: {
    usage: 'tools [SERVER] [--json]',
    summary: "the merged catalog, or one server's (or group's) part",
    options: ['config', 'json'],
    positionals: [0, 1],
    details: ['Only the named server is started when SERVER is given.'],
  },
  call: {
    usage: 'call NAME [--args JSON|@FILE|-] [--target ID] [--context JSON]',
    summary: 'one routed call; result JSON on stdout',
    options: ['config', 'args', 'target', 'context'],
    positionals: [1, 1],
    details: [
      '--args @FILE reads the arguments from a file, --args - from stdin.',
      'Only the servers that can answer NAME are started.',
      'Exit 1 when the result is an error, 2 for an unknown tool or bad arguments.',
    ],
  },
  aggregate: {
    usage: 'aggregate TOOL [--args JSON|@FILE|-] [--targets a,b]',
    summary: 'the same call on every server that has TOOL, in parallel; JSON keyed by server',
    options: ['config', 'args', 'targets'],
    positionals: [1, 1],
  },
  health: {
    usage: 'health [--json]',
    summary: 'overall, each server, Redis; exit 1 unless healthy',
    options: ['config', 'json'],
    positionals: [0, 0],
  },
  servers: {
    usage: 'servers [--json]',
    summary: 'the configured servers: id, transport, era, enabled, group (nothing is started)',
    options: ['config', 'json'],
    positionals: [0, 0],
  },
  add: {
    usage: 'add ID [--url URL | -- COMMAND ARGS...]',
    summary: 'add a server to servers.yml (comments and layout kept)',
    options: ['config', 'url'],
    positionals: [1, Infinity],
    details: [
      'mcp-coordinator add memory -- npx -y @modelcontextprotocol/server-memory',
      'mcp-coordinator add docs --url http://127.0.0.1:4100/mcp',
    ],
  },
  remove: {
    usage: 'remove ID',
    summary: 'remove a server from servers.yml',
    options: ['config'],
    positionals: [1, 1],
  },
  enable: {
    usage: 'enable ID',
    summary: 'enable a server in servers.yml',
    options: ['config'],
    positionals: [1, 1],
  },
  disable: {
    usage: 'disable ID',
    summary: 'disable a server in servers.yml (kept, not started)',
    options: ['config'],
    positionals: [1, 1],
  },
  init: {
    usage: 'init [--force]',
    summary: 'write a commented starter servers.yml (never over an existing file without --force)',
    options: ['config', 'force'],
    positionals: [0, 0],
  },
  events: {
    usage: 'events [--follow] [--type GLOB] [--since ID|TIME]',
    summary: 'coordination events as JSON lines (needs coordination.redis)',
    options: ['config', 'follow', 'type', 'since'],
    positionals: [0, 0],
    details: [
      'Without Redis the embedded bus lives inside one coordinator process: another',
      'process (this command) cannot see its events, so it exits 2 and says so.',
    ],
  },
  check: {
    usage: 'check',
    summary: 'validate the config and exit; warns about server commands that cannot be found',
    options: ['config'],
    positionals: [0, 0],
  },
  help: {
    usage: 'help [COMMAND]',
    summary: 'this text, or one command in detail',
    options: [],
    positionals: [0, 1],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMAND_SPECS;
export const COMMANDS = Object.keys(COMMAND_SPECS) as CommandName[];

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SPECS, name);
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((name) => COMMAND_SPECS[name].usage.length));
  const lines = COMMANDS.map((name) => {
    const spec: CommandSpec = COMMAND_SPECS[name];
    return spec.usage.length > 34
      ? `  ${spec.usage}\n  ${' '.repeat(Math.min(width, 34))}  ${spec.summary}`
      : `  ${spec.usage.padEnd(34)}  ${spec.summary}`;
  });
  return [
    'Usage: mcp-coordinator [COMMAND] [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    `  ${CONFIG_LINE}`,
    '  -h, --help      usage (help COMMAND for one command)',
    '  --version       the version',
    '',
    'Exit codes: 0 success, 1 a call or server failed, 2 bad usage or bad config.',
  ].join('\n');
}

export function commandUsage(name: CommandName): string {
  const spec: CommandSpec = COMMAND_SPECS[name];
  return [
    `Usage: mcp-coordinator ${spec.usage}`,
    '',
    spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.',
    ...(spec.details ? ['', ...spec.details] : []),
    ...(spec.options.includes('config') ? ['', 'Options:', `  ${CONFIG_LINE}`] : []),
  ].join('\n');
}
