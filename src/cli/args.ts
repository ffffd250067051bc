/**
 * argv → a command and its options, checked against the command table before anything is
 * loaded or started. Bad usage is a UsageError (exit 2).
 */
import { parseArgs } from 'node:util';
import { closest } from '../config/suggest.js';
import { COMMANDS, COMMAND_SPECS, isCommand, type CommandName, type OptionName } from './spec.js';

export class UsageError extends Error {
  /** The command whose usage to show under the message, if any. */
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

export { COMMANDS, type CommandName };

export interface ParsedArgs {
  command: CommandName;
  positionals: string[];
  /** `add ID -- COMMAND ARGS…`: what came after `--`. */
  afterDashes: string[];
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
    force?: boolean;
    url?: string;
    http?: string;
    token?: string;
    header?: string[];
    help?: boolean;
    version?: boolean;
  };
}

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  args: { type: 'string' },
  target: { type: 'string' },
  targets: { type: 'string' },
  context: { type: 'string' },
  follow: { type: 'boolean' },
  type: { type: 'string' },
  since: { type: 'string' },
  force: { type: 'boolean' },
  url: { type: 'string' },
  http: { type: 'string' },
  token: { type: 'string' },
  header: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies Record<OptionName, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Options every command takes. */
const GLOBAL: ReadonlySet<string> = new Set(['help', 'version']);

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, tokens: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(unknownOptionHint(error instanceof Error ? error.message : String(error)));
  }
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator');
  const dashed = terminator
    ? parsed.tokens.filter((t) => t.kind === 'positional' && t.index > terminator.index).length
    : 0;
  const before = parsed.positionals.slice(0, parsed.positionals.length - dashed);
  const afterDashes = parsed.positionals.slice(parsed.positionals.length - dashed);

  const [first, ...positionals] = before;
  if (first !== undefined && !isCommand(first)) {
    const meant = closest(first, COMMANDS);
    throw new UsageError(`unknown command "${first}"${meant ? ` (did you mean "${meant}"?)` : ''}`);
  }
  const command: CommandName = first ?? 'serve';
  const values = parsed.values as ParsedArgs['values'];
  if (values.help || values.version) return { command, positionals, afterDashes, values };

  const spec = COMMAND_SPECS[command];
  const allowed: readonly string[] = spec.options;
  for (const name of Object.keys(values)) {
    if (!GLOBAL.has(name) && !allowed.includes(name)) {
      throw new UsageError(`${command} does not take --${name}`, command);
    }
  }
  if (afterDashes.length > 0 && command !== 'add') {
    throw new UsageError(`${command} takes nothing after --`, command);
  }
  const [min, max] = spec.positionals;
  if (positionals.length < min) {
    throw new UsageError(`${command} needs ${spec.usage.split(' ')[1]}`, command);
  }
  if (positionals.length > max) {
    throw new UsageError(`${command} takes at most ${max} argument${max === 1 ? '' : 's'}`, command);
  }
  if (command === 'help' && positionals[0] !== undefined && !isCommand(positionals[0])) {
    const meant = closest(positionals[0], COMMANDS);
    throw new UsageError(`unknown command "${positionals[0]}"${meant ? ` (did you mean "${meant}"?)` : ''}`);
  }
  if (command === 'add') checkAdd(positionals, afterDashes, values);
  return { command, positionals, afterDashes, values };
}

function checkAdd(positionals: string[], afterDashes: string[], values: ParsedArgs['values']): void {
  if (positionals.length > 1) {
    throw new UsageError('add: put the server command after -- (add ID -- COMMAND ARGS...)', 'add');
  }
  if (values.url === undefined && afterDashes.length === 0) {
    throw new UsageError('add needs --url URL or -- COMMAND ARGS...', 'add');
  }
  if (values.url !== undefined && afterDashes.length > 0) {
    throw new UsageError('add takes either --url or a command after --, not both', 'add');
  }
}

/** node's "Unknown option '--jsno'" plus a did-you-mean. */
function unknownOptionHint(message: string): string {
  const match = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (!match) return message;
  const meant = closest(match[2]!, Object.keys(OPTIONS));
  return `unknown option ${match[1]}${match[2]}${meant ? ` (did you mean --${meant}?)` : ''}`;
}

/** A JSON object option (--args, --context); `source` names where the text came from. */
export function jsonObjectOption(
  value: string | undefined,
  flag: string,
  source = flag,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(
      `${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${source} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
