/** The one-shot commands: each prints its result on stdout and returns an exit code. */
import type { App } from '../app.js';
import type { CoordinationEvent, EventBus } from '../coordination/types.js';
import { BUILTIN_SERVER_ID, META_SERVER } from '../catalog/types.js';
import { closest } from '../config/suggest.js';
import { dispatchToolCall } from '../server/handlers/tools.js';
import { UnknownNameError } from '../shared/errors.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { CommandInputs } from './inputs.js';
import { printJson, printLine, printNote, printTable } from './output.js';
import { printOnce } from './print-once.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../coordination/bus/replay.js';
import { bareMessage } from '../shared/errors.js';
import { redact } from '../shared/redact.js';

/** Longest a one-shot command waits for eager servers before answering with what is ready. */
const SETTLE_MS = 60_000;

/**
 * How long `health` and `tools` wait for servers still starting: a server stuck in `initialize` is reported
 * as `starting` (with how long) after this, instead of holding the answer for a minute.
 */
const HEALTH_SETTLE_MS = 10_000;

export async function runTools(app: App, args: ParsedArgs): Promise<number> {
  // Bounded like health: a server stuck in `initialize` is named below, not waited for a minute.
  await app.settled(HEALTH_SETTLE_MS);
  const missing = notConnected(app);
  for (const line of missing) printNote(`tools: ${line}; its tools are missing or from the warm catalog`);
  // `tools SERVER`: the app holds only that server (or group); the built-ins are left out.
  const tools = app.state.current.tools.filter(
    (t) => args.positionals.length === 0 || t._meta?.[META_SERVER] !== BUILTIN_SERVER_ID,
  );
  if (args.values.json) printJson(tools);
  else {
    printTable(
      ['TOOL', 'SERVER', 'DESCRIPTION'],
      tools.map((t) => [t.name, String(t._meta?.[META_SERVER] ?? ''), oneLine(t.description ?? '')]),
    );
  }
  // A partial list is not a success: the exit code says a server failed, as health's does.
  return missing.length > 0 ? 1 : 0;
}

/** The servers started for this command that are not connected, each with why. */
function notConnected(app: App): string[] {
  return app.pool
    .all()
    .filter((d) => d.status !== 'connected' && d.status !== 'idle')
    .map((d) => {
      if (d.status === 'starting' && d.snapshot === undefined) return `${d.id} is still starting`;
      return `${d.id} is ${d.status}${d.lastError ? ` (${redact(d.lastError)})` : ''}`;
    });
}

export async function runCall(app: App, args: ParsedArgs, inputs: CommandInputs): Promise<number> {
  const name = args.positionals[0]!;
  let result;
  try {
    result = await dispatchToolCall(app, {
      name,
      arguments: inputs.args ?? {},
      target: args.values.target,
      context: inputs.context,
    });
  } catch (error) {
    if (!(error instanceof UnknownNameError)) throw error;
    // A server that could have it never came up: that is a failure (1), not a typo (2).
    const down = app.state.couldOwn(name).filter((d) => d.snapshot === undefined);
    if (down.length > 0) {
      const why = down.map((d) => `${d.id} (${d.status}${d.lastError ? `: ${d.lastError}` : ''})`);
      throw new Error(
        `${name}: not available, a server that could answer it did not start: ${why.join('; ')}`,
      );
    }
    // The servers that could answer are running now: their real names make the suggestion.
    const meant = closest(
      name,
      app.state.current.tools.map((t) => t.name),
    );
    throw new UsageError(
      `unknown tool "${name}"${meant ? ` (did you mean "${meant}"?)` : ' (see mcp-coordinator tools)'}`,
    );
  }
  printJson(result);
  return result.isError ? 1 : 0;
}

/** One line; the table cuts it to the terminal's width. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export async function runAggregate(app: App, args: ParsedArgs, inputs: CommandInputs): Promise<number> {
  const tool = args.positionals[0]!;
  const targets = inputs.targets;
  await app.settled(SETTLE_MS);
  const stopProgress = process.stderr.isTTY ? startSpinner(`aggregate ${tool}`) : undefined;
  let outcome;
  try {
    outcome = await app.router.aggregate(tool, inputs.args, targets);
  } finally {
    stopProgress?.();
  }
  printJson(outcome);
  // Partial failure is a result; only "nobody answered" is a failure.
  return Object.keys(outcome.results).length === 0 ? 1 : 0;
}

export async function runHealth(app: App, args: ParsedArgs): Promise<number> {
  await app.settled(HEALTH_SETTLE_MS);
  await app.health.checkNow();
  const report = app.health.report();
  if (args.values.json) printJson(report);
  else {
    const pg = report.postgres;
    const backlog = pg ? ` (backlog ${pg.backlog}, dropped ${pg.dropped})` : '';
    printLine(
      `overall: ${report.overall}   redis: ${report.dependencies.redis}   ` +
        `postgres: ${report.dependencies.postgres}${backlog}`,
    );
    printTable(
      ['SERVER', 'STATUS', 'TRANSPORT', 'TOOLS', 'RESTARTS', 'LATENCY', 'LAST ERROR'],
      Object.entries(report.servers).map(([id, s]) => [
        id,
        s.startingForMs === undefined ? s.status : `${s.status} (${(s.startingForMs / 1000).toFixed(1)} s)`,
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
  const { type, since, follow } = args.values;
  // Redis: wait until the publisher is ready and the subscription is live, so the replay can be
  // read and no live event falls between the replay and the subscription.
  await busReady(app.bus, BUS_READY_MS);
  const print = printOnce<CoordinationEvent>((event) => printLine(JSON.stringify(event)));
  // Subscribe before replaying; what arrives meanwhile is held back and printed after the
  // replay, once (an event can be in both).
  let heldBack: CoordinationEvent[] | undefined = follow ? [] : undefined;
  if (follow) app.bus.subscribe((event) => (heldBack ? heldBack.push(event) : print(event)), type);
  for (const event of await app.bus.replay({ since, type })) print(event);
  const held = heldBack ?? [];
  heldBack = undefined;
  for (const event of held) print(event);
  if (!follow) return 0;
  resumeAfterReconnects(app.bus, type, print);
  // Follow until interrupted (the lifecycle handles SIGINT/SIGTERM).
  return new Promise<number>(() => {});
}

/**
 * Live events are lost while the subscription is down, and so are the ones other coordinators
 * buffered through an outage and flushed before this follower subscribed again: they are only in
 * the stream. So after every reconnect the stream is read again from the moment the link was lost
 * (less `CLOCK_SKEW_ALLOWANCE_MS`, as publishers stamp events with their own clocks), and
 * `print` (bounded de-duplication) drops what was already printed.
 */
function resumeAfterReconnects(
  bus: EventBus,
  type: string | undefined,
  print: (event: CoordinationEvent) => void,
): void {
  if (!bus.onStatus) return;
  let lostAt: number | undefined;
  let reading: Promise<void> = Promise.resolve();
  bus.onStatus((status) => {
    if (status !== 'connected') {
      lostAt ??= Date.now();
      return;
    }
    if (lostAt === undefined) return;
    const since = new Date(lostAt - CLOCK_SKEW_ALLOWANCE_MS).toISOString();
    lostAt = undefined;
    // One reading at a time, in order: a flapping link must not print out of order or twice.
    reading = reading.then(async () => {
      try {
        for (const event of await bus.replay({ since, type })) print(event);
      } catch (error) {
        process.stderr.write(
          `mcp-coordinator: events: cannot read back after reconnecting: ${redact(bareMessage(error))}\n`,
        );
      }
    });
  });
}

/** How long `events` waits for the shared bus before reading it anyway (and failing clearly). */
const BUS_READY_MS = 10_000;

function busReady(bus: EventBus, timeoutMs: number): Promise<void> {
  if (bus.status !== 'disconnected' || !bus.onStatus) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const stop = bus.onStatus!((status) => {
      if (status === 'connected') done();
    });
    // It may have connected between the first look and the subscription.
    if (bus.status !== 'disconnected') done();
    function done() {
      clearTimeout(timer);
      stop();
      resolve();
    }
  });
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
