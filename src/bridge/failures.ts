/**
 * What went wrong with one HTTP exchange, in the terms the bridge acts on: retry it (the request
 * never reached the server), re-open the legacy session (the server forgot it), or answer the
 * client with an error (auth, any other HTTP answer, or a connection lost after the request left).
 */
import { SdkHttpError } from '@modelcontextprotocol/client';
import { OversizeResponseError } from '../shared/bounded-fetch.js';

export type Failure =
  /** Nothing was sent: connection refused, no such host, connect timeout. Safe to send again. */
  | { kind: 'unreachable'; message: string }
  /** HTTP 404 to a request that carried a session id: the server no longer knows the session. */
  | { kind: 'session-gone'; message: string }
  /** HTTP 401 or 403: the server's own message. */
  | { kind: 'auth'; status: number; message: string }
  /** Any other error answer (an HTTP status, or a JSON-RPC error to the bridge's own request). */
  | { kind: 'http'; status?: number; message: string }
  /** The request may have reached the server before the connection failed. */
  | { kind: 'lost'; message: string };

/** Socket errors raised before a request was written: the server cannot have seen it. */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function classify(error: unknown, hadSession: boolean): Failure {
  if (error instanceof SdkHttpError && typeof error.status === 'number') {
    const status = error.status;
    const message = serverMessage(httpText(error)) ?? `HTTP ${status}`;
    if (status === 401 || status === 403) return { kind: 'auth', status, message };
    if (status === 404 && hadSession) return { kind: 'session-gone', message };
    return { kind: 'http', status, message };
  }
  const oversize = causes(error).find((e) => e instanceof OversizeResponseError);
  // The server answered, with too much: the request ran, the answer is lost.
  if (oversize) return { kind: 'http', message: oversize.message };
  const code = socketCode(error);
  const message = describe(error, code);
  if (code !== undefined && NEVER_SENT.has(code)) return { kind: 'unreachable', message };
  return { kind: 'lost', message };
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && !chain.includes(e) && chain.length < 8;) {
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

function httpText(error: SdkHttpError): string | undefined {
  const data = error.data as { text?: unknown } | undefined;
  return typeof data?.text === 'string' ? data.text : undefined;
}

/**
 * The message in an error body: the coordinator's `{ error: { code, message } }`, a JSON-RPC
 * error, `{ error: "…" }` or `{ message }`; plain text as is (cut short).
 */
export function serverMessage(text: string | undefined): string | undefined {
  if (!text?.trim()) return undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const inner = body.error;
    if (typeof inner === 'string') return inner;
    if (inner && typeof inner === 'object' && typeof (inner as { message?: unknown }).message === 'string') {
      return (inner as { message: string }).message;
    }
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: the text itself
  }
  const line = text.trim().replace(/\s+/g, ' ');
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** The system error code under fetch's "fetch failed" (possibly an AggregateError of attempts). */
function socketCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('E') || code.startsWith('UND_ERR'))) return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const codes = errors.map(socketCode);
      // Every address refused: refused. Mixed outcomes: the first one that says anything.
      if (codes.every((c) => c !== undefined && NEVER_SENT.has(c))) return codes[0];
      return codes.find((c) => c !== undefined);
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown, code: string | undefined): string {
  const text = error instanceof Error ? error.message : String(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Try again (with backoff): the request has not reached the server, or may run twice. */
export class Retry extends Error {}

/** A failure to report to the client, as it is. */
export class BridgeFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}
