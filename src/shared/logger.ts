/**
 * The only logger: it writes to stderr, never stdout, because in `serve` stdout is the
 * MCP protocol. Level from the caller (the composition root reads the environment).
 */
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
  /**
   * Also hand every line this logger (and all its children, before and after) writes to `sink`,
   * e.g. the log ring behind `/api/logs`; returns the function that removes it. What goes to
   * stderr is unchanged. Optional so hand-written test loggers need not implement it.
   */
  addSink?(sink: LogSink): () => void;
}

/** One line as a sink gets it: not redacted yet (the sink redacts), without the stderr prefix. */
export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  /** The child scope (`downstream:memory`), undefined for the root logger. */
  scope: string | undefined;
  /** The message and its fields as JSON, as on stderr. */
  message: string;
}

export type LogSink = (record: LogRecord) => void;

export interface LoggerOptions {
  level?: LogLevel;
  scope?: string;
  /** Where lines go; stderr unless a test wants them. */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  // Shared by the root and every child; copied on write so a sink removed mid-line is harmless.
  let sinks: LogSink[] = [];
  const make = (scope: string | undefined): Logger => {
    const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
      if (ORDER[lvl] < level) return;
      const tag = scope ? `[${scope}] ` : '';
      const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : '';
      write(redact(`mcp-coordinator ${lvl} ${tag}${msg}${extra}\n`));
      for (const sink of sinks) {
        try {
          sink({ level: lvl, scope, message: `${msg}${extra}` });
        } catch {
          // A sink never breaks logging (and must not log about itself: that would recurse).
        }
      }
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (s) => make(scope ? `${scope}:${s}` : s),
      addSink(sink) {
        const entry: LogSink = (record) => sink(record);
        sinks = [...sinks, entry];
        return () => {
          sinks = sinks.filter((s) => s !== entry);
        };
      },
    };
  };
  return make(options.scope);
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger({ level: 'silent' });

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? v.message : v));
  } catch {
    return '[unserializable]';
  }
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return value && value in ORDER ? (value as LogLevel) : 'info';
}
