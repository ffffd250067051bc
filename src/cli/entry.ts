/**
 * The first module the bin loads, and a light one: argv is parsed, and `--version`, help and
 * most usage errors are answered, before the config loader, the SDK or the app are imported.
 */
import { UsageError, parseCommandLine } from './args.js';
import { printLine } from './output.js';
import { COMMAND_SPECS, commandUsage, usage, type CommandName } from './spec.js';
import { packageVersion } from './version.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface RunIO {
  cwd: string;
  stdin: NodeJS.ReadableStream;
}

export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: RunIO = { cwd: process.cwd(), stdin: process.stdin },
): Promise<number> {
  let args;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError(error);
    throw error;
  }
  if (args.values.version) {
    printLine(packageVersion());
    return EXIT.ok;
  }
  if (args.values.help || args.command === 'help') {
    const topic = args.command === 'help' ? (args.positionals[0] as CommandName | undefined) : args.command;
    printLine(topic && argv.includes(topic) ? commandUsage(topic) : usage());
    return EXIT.ok;
  }
  if (args.command === 'connect') {
    // A bridge needs no config, catalog or app: none of that is loaded.
    try {
      const { runConnect } = await import('./connect.js');
      return await runConnect(args, env);
    } catch (error) {
      if (error instanceof UsageError) return reportUsageError(error);
      throw error;
    }
  }
  let inputs;
  try {
    const { readInputs } = await import('./inputs.js');
    inputs = await readInputs(args, io);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError(error);
    throw error;
  }
  const { runParsed } = await import('./run.js');
  return runParsed(args, inputs, env, io);
}

/** The message, and the usage line of the command it concerns (or where to find usage). */
export function reportUsageError(error: UsageError): number {
  const hint = error.command
    ? `\nUsage: mcp-coordinator ${COMMAND_SPECS[error.command].usage}`
    : '\nRun mcp-coordinator --help for usage.';
  process.stderr.write(`mcp-coordinator: ${error.message}${hint}\n`);
  return EXIT.usage;
}
