/**
 * The values a command reads besides argv (`--args @FILE`, `--args -`), parsed and checked
 * before the config is loaded or any server started: a typo costs milliseconds, not a spawn.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, jsonObjectOption, type ParsedArgs } from './args.js';

export interface CommandInputs {
  args?: Record<string, unknown>;
  context?: Record<string, unknown>;
  targets?: string[];
}

export async function readInputs(
  parsed: ParsedArgs,
  io: { cwd: string; stdin: NodeJS.ReadableStream },
): Promise<CommandInputs> {
  const { values } = parsed;
  const inputs: CommandInputs = {};
  if (values.args !== undefined) {
    const { text, source } = await argsText(values.args, io);
    inputs.args = jsonObjectOption(text, '--args', source);
  }
  inputs.context = jsonObjectOption(values.context, '--context');
  if (values.targets !== undefined) {
    inputs.targets = values.targets
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (inputs.targets.length === 0) throw new UsageError('--targets needs at least one server id');
  }
  if (values.since !== undefined || values.type !== undefined) {
    // Loaded only here: `--version` or a bad --args should not pay for the events module.
    const { planReplay } = await import('../coordination/bus/replay.js');
    try {
      planReplay({ since: values.since, type: values.type });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error), parsed.command);
    }
  }
  return inputs;
}

async function argsText(
  value: string,
  io: { cwd: string; stdin: NodeJS.ReadableStream },
): Promise<{ text: string; source: string }> {
  if (value === '-') return { text: await readAll(io.stdin), source: '--args - (stdin)' };
  if (!value.startsWith('@')) return { text: value, source: '--args' };
  const file = path.resolve(io.cwd, value.slice(1));
  try {
    return { text: await readFile(file, 'utf8'), source: `--args ${value}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--args ${value}: cannot read ${file}${code ? ` (${code})` : ''}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += String(chunk);
  return text;
}
