/**
 * Two error families: typed internal errors (with a `cause`) thrown anywhere inside, and
 * `McpError` on the wire, produced once by `toMcpError` (mcp-errors.ts) at the upstream boundary.
 */
import { redact } from './redact.js';

export class CoordinatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: names the file, the line (1-based, when known) and the key path. */
export class ConfigError extends CoordinatorError {
  /** What is wrong, redacted: a config error never echoes a credential. */
  readonly detail: string;

  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly key: string,
    detail: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${redact(detail)}`);
    this.detail = redact(detail);
  }
}

/** A name (tool, prompt, resource URI) nobody exposes. */
export class UnknownNameError extends CoordinatorError {
  constructor(
    readonly kind: 'tool' | 'prompt' | 'resource' | 'server' | 'group',
    readonly unknownName: string,
    /** A close existing name, for "did you mean". */
    readonly meant?: string,
  ) {
    super(`Unknown ${kind}: ${unknownName}${meant === undefined ? '' : ` (did you mean "${meant}"?)`}`);
  }
}

/** The caller's arguments are wrong (bad target, bad context shape, …). */
export class InvalidArgumentError extends CoordinatorError {}

/**
 * The downstream could not be reached or stopped answering: closed, timed out, failed to
 * spawn, crashed mid-call. Only this kind may fail over, and only before any side effect.
 */
export class TransportFailureError extends CoordinatorError {
  constructor(
    readonly serverId: string,
    readonly reason: 'closed' | 'timeout' | 'spawn' | 'unavailable' | 'crashed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** The request had been written to the downstream: it may have run there. */
  sent = false;
}

/**
 * A call that reached a downstream which then failed, for a tool that is neither read-only nor
 * idempotent: running it again elsewhere could do the work twice, so it is not.
 */
export class MayHaveRunError extends CoordinatorError {
  constructor(
    readonly serverId: string,
    readonly attempts: ReadonlyArray<{ target: string; error: string }>,
    cause: TransportFailureError,
  ) {
    super(
      `${cause.message}; the call may have run on ${serverId}, so it was not retried on another server ` +
        '(only tools annotated readOnlyHint or idempotentHint, or listed in cache.tools, are)',
      { cause },
    );
  }
}

/** Every candidate of a routed call failed at the transport level. */
export class AllCandidatesFailedError extends CoordinatorError {
  constructor(readonly attempts: ReadonlyArray<{ target: string; error: string }>) {
    super(
      `All candidates failed: ${attempts.map((a) => `${a.target} (${a.error})`).join('; ') || 'no candidate'}`,
    );
  }
}

/** The shared coordination store (Redis) is unreachable: never a silent local grant. */
export class CoordinationUnavailableError extends CoordinatorError {}

/** A lock, task or ownership rule said no. */
export class ConflictError extends CoordinatorError {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

const MCP_PREFIX = /^MCP error -?\d+: /;

/** The message of a downstream McpError without the SDK's "MCP error <code>: " prefix. */
export function bareMessage(error: unknown): string {
  if (error instanceof Error) return error.message.replace(MCP_PREFIX, '');
  return String(error);
}
