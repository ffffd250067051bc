/**
 * Coordinator errors on the wire: the one conversion to McpError. Apart from errors.ts so that
 * code that only needs the error classes (the CLI's start-up, config loading) does not load the
 * SDK's protocol schemas before it has to.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
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

/**
 * An McpError whose message is exactly what the client should read. The SDK puts `message` on
 * the wire as is and the client's McpError adds "MCP error <code>: " again, so the constructor's
 * own prefix must not travel (else the client sees it twice).
 */
function wireError(code: number, message: string, data?: unknown): McpError {
  const error = new McpError(code, message, data);
  Object.defineProperty(error, 'message', { value: message });
  return error;
}

/** The one conversion to the wire. A downstream McpError keeps its code, message and data. */
export function toMcpError(error: unknown): McpError {
  if (error instanceof McpError) return wireError(error.code, bareMessage(error), error.data);
  if (error instanceof UnknownNameError || error instanceof InvalidArgumentError) {
    return wireError(ErrorCode.InvalidParams, error.message);
  }
  if (error instanceof ConfigError) return wireError(ErrorCode.InvalidParams, error.message);
  if (error instanceof TransportFailureError) {
    const code = error.reason === 'timeout' ? ErrorCode.RequestTimeout : ErrorCode.ConnectionClosed;
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
