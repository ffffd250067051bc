/** The one-shot commands: each prints its result on stdout and returns an exit code. */
import type { App } from '../app.js';
import { META_SERVER } from '../catalog/types.js';
import { dispatchToolCall } from '../server/handlers/tools.js';
import { UsageError, jsonObjectOption, type ParsedArgs } from './args.js';
import { printJson, printTable } from './output.js';

/** Longest a one-shot command waits for eager servers before answering with what is ready. */
const SETTLE_MS = 60_000;

export async function runTools(app: App, args: ParsedArgs): Promise<number> {
  await app.settled(SETTLE_MS);
  const tools = app.state.current.tools;
  if (args.values.json) {
    printJson(tools);
    return 0;
  }
  printTable(
    ['TOOL', 'SERVER', 'DESCRIPTION'],
    tools.map((t) => [t.name, String(t._meta?.[META_SERVER] ?? ''), oneLine(t.description ?? '', 80)]),
  );
  return 0;
}

export async function runCall(app: App, args: ParsedArgs): Promise<number> {
  const [name] = args.positionals;
  if (!name) throw new UsageError('call needs a tool NAME');
  const result = await dispatchToolCall(app, {
    name,
    arguments: jsonObjectOption(args.values.args, '--args') ?? {},
    target: args.values.target,
    context: jsonObjectOption(args.values.context, '--context'),
  });
  printJson(result);
  return result.isError ? 1 : 0;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
