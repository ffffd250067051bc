/**
 * Coordinator errors on the wire: the one conversion to the SDK's ProtocolError. Apart from
 * errors.ts so that code that only needs the error classes (the CLI's start-up, config loading)
 * does not load the SDK before it has to.
 */
import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode } from '@modelcontextprotocol/server';
import {
  AllCandidatesFailedError,
  ConfigError,
  ConflictError,
  CoordinationUnavailableError,
  InvalidArgumentError,
  TransportFailureError,
  UnknownNameError,
  bareMessage,
} from './errors.js';
import { redact, redactValue } from './redact.js';

/**
 * Codes the coordinator puts on the wire for a downstream that timed out or went away. They are
 * the codes v1 of the SDK used for the same local conditions (v2 reports those as an SdkError,
 * which never travels), so clients written against either see the same numbers.
 */
export const WIRE_CODE = { ConnectionClosed: -32000, RequestTimeout: -32001 } as const;

/**
 * A ProtocolError whose message is exactly what the client should read (a v1 peer's McpError
 * message carries "MCP error <code>: ", which must not travel twice).
 */
function wireError(code: number, text: string, data?: unknown): ProtocolError {
  // The one way out for errors: redacted here, whatever produced them.
  const message = redact(text);
  const error = new ProtocolError(code, message, redactValue(data));
  Object.defineProperty(error, 'message', { value: message });
  return error;
}

const ErrorCode = ProtocolErrorCode;

/** The one conversion to the wire. A downstream ProtocolError keeps its code, message and data. */
export function toMcpError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return wireError(error.code, bareMessage(error), error.data);
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) return wireError(WIRE_CODE.RequestTimeout, error.message);
    if (error.code === SdkErrorCode.ConnectionClosed)
      return wireError(WIRE_CODE.ConnectionClosed, error.message);
  }
  if (error instanceof UnknownNameError || error instanceof InvalidArgumentError) {
    return wireError(ErrorCode.InvalidParams, error.message);
  }
  if (error instanceof ConfigError) return wireError(ErrorCode.InvalidParams, error.message);
  if (error instanceof TransportFailureError) {
    const code = error.reason === 'timeout' ? WIRE_CODE.RequestTimeout : WIRE_CODE.ConnectionClosed;
    return wireError(code, error.message, { server: error.serverId, reason: error.reason });
  }
  if (error instanceof AllCandidatesFailedError) {
    return wireError(ErrorCode.InternalError, error.message, { attempts: error.attempts });
  }
  if (error instanceof CoordinationUnavailableError) return wireError(ErrorCode.InternalError, error.message);
  if (error instanceof ConflictError)
    return wireError(ErrorCode.InvalidRequest, error.message, error.details);
  return wireError(ErrorCode.InternalError, error instanceof Error ? error.message : String(error));
}
