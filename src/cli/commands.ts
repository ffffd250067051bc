/** The one-shot commands: each prints its result on stdout and returns an exit code. */
import type { App } from '../app.js';
import { META_SERVER } from '../catalog/types.js';
import { dispatchToolCall } from '../server/handlers/tools.js';
import { UsageError, jsonObjectOption, type ParsedArgs } from './args.js';
import { printJson, printLine, printTable } from './output.js';

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

export async function runAggregate(app: App, args: ParsedArgs): Promise<number> {
  const [tool] = args.positionals;
  if (!tool) throw new UsageError('aggregate needs a TOOL');
  const targets = args.values.targets
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  await app.settled(SETTLE_MS);
  const stopProgress = process.stderr.isTTY ? startSpinner(`aggregate ${tool}`) : undefined;
  let outcome;
  try {
    outcome = await app.router.aggregate(tool, jsonObjectOption(args.values.args, '--args'), targets);
  } finally {
    stopProgress?.();
  }
  printJson(outcome);
  // Partial failure is a result; only "nobody answered" is a failure.
  return Object.keys(outcome.results).length === 0 ? 1 : 0;
}

export async function runHealth(app: App, args: ParsedArgs): Promise<number> {
  await app.settled(SETTLE_MS);
  await app.health.checkNow();
  const report = app.health.report();
  if (args.values.json) printJson(report);
  else {
    printLine(`overall: ${report.overall}   redis: ${report.dependencies.redis}`);
    printTable(
      ['SERVER', 'STATUS', 'TRANSPORT', 'TOOLS', 'RESTARTS', 'LATENCY', 'LAST ERROR'],
      Object.entries(report.servers).map(([id, s]) => [
        id,
        s.status,
        s.transport,
        String(s.tools),
        String(s.restarts),
        s.latencyMs === null ? '-' : `${s.latencyMs.toFixed(1)} ms`,
        s.lastError ?? '',
      ]),
    );
  }
  return report.overall === 'healthy' ? 0 : 1;
}

export async function runEvents(app: App, args: ParsedArgs): Promise<number> {
  const type = args.values.type;
  const past = await app.bus.replay({ since: args.values.since, type });
  for (const event of past) printLine(JSON.stringify(event));
  if (!args.values.follow) return 0;
  const seen = new Set(past.map((e) => e.id));
  app.bus.subscribe((event) => {
    if (!seen.has(event.id)) printLine(JSON.stringify(event));
  }, type);
  // Follow until interrupted (the lifecycle handles SIGINT/SIGTERM).
  return new Promise<number>(() => {});
}

/** A one-line spinner on stderr for TTYs; returns a stop function. */
function startSpinner(label: string): () => void {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    process.stderr.write(
      `\r${frames[i++ % frames.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  }, 100);
  return () => {
    clearInterval(timer);
    process.stderr.write('\r\x1b[K');
  };
}
