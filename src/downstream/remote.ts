/**
 * Everything remote (legacy SSE, Streamable HTTP), imported only once a remote server is
 * configured: the SDK's HTTP client pulls in its OAuth, EventSource and PKCE modules, about
 * 2–3 MB and 30 ms of start-up that an all-stdio coordinator never needs.
 */
import {
  SdkHttpError,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import type { RemoteServerConfig } from '../config/schema.js';

export function createRemoteTransport(config: RemoteServerConfig): Transport {
  const url = new URL(config.url);
  const requestInit: RequestInit = { headers: config.headers };
  if (config.transport === 'sse') {
    // In this SDK the SSE transport builds the EventSource's GET headers from requestInit.headers
    // too (its _commonHeaders), so one place carries them for the stream and for every POST.
    return new SSEClientTransport(url, { requestInit });
  }
  return new StreamableHTTPClientTransport(url, { requestInit });
}

/** Remote errors after which the session cannot recover by itself. */
export function isConnectionLost(error: Error): boolean {
  if (error instanceof SseError) return true; // the legacy SSE session lives and dies with its stream
  if (error instanceof SdkHttpError) return error.status === 404; // session unknown: server restarted
  // The SDK gave up re-opening the GET stream after its own retries.
  if (/^Maximum reconnection attempts/.test(error.message)) return true;
  return isNetworkError(error);
}

function isNetworkError(error: Error): boolean {
  // undici: TypeError('fetch failed') with the socket error as cause.
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}
