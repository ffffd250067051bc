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
import { boundedFetch } from '../shared/bounded-fetch.js';
import { INVALID_REQUEST, MAX_LINE_BYTES } from '../shared/json-lines.js';

export interface RemoteTransportOptions {
  /** Named in the error of an over-size message. */
  serverId?: string;
  /** Largest message read from the server (default `MAX_LINE_BYTES`, as from a stdio server). */
  maxMessageBytes?: number;
}

export function createRemoteTransport(
  config: RemoteServerConfig,
  options: RemoteTransportOptions = {},
): Transport {
  const url = new URL(config.url);
  const requestInit: RequestInit = { headers: config.headers };
  // Every message from the server is bounded (one JSON body, one SSE event), as from a child's
  // stdout. Streamable HTTP: an over-size one is taken out of its response and, in a POST's, an
  // error naming the limit stands in its place for the requests of that POST: they fail at once
  // instead of waiting out their timeout, and the stream goes on (broken, a resumable one would be
  // fetched again and again). Legacy SSE: its one stream breaks, the session is reconnected, and
  // the calls waiting on it fail at once (the answer's request cannot be told from a POST there).
  const limit = options.maxMessageBytes ?? MAX_LINE_BYTES;
  const name = options.serverId ?? config.url;
  const sse = config.transport === 'sse';
  const fetch = boundedFetch(
    limit,
    (error) => transport.onerror?.(new Error(`${name}: ${error.message}`)),
    undefined,
    sse
      ? undefined
      : (error, init, response) => {
          const ids = requestIds(init?.body);
          if (ids.length === 0) return undefined;
          const message = `${name}: ${error.message}`;
          const replies = ids.map((id) => ({
            jsonrpc: '2.0',
            id,
            error: { code: INVALID_REQUEST, message },
          }));
          if (response.headers.get('content-type')?.includes('text/event-stream')) {
            return replies.map((reply) => `data: ${JSON.stringify(reply)}\n\n`).join('');
          }
          return JSON.stringify(replies.length === 1 ? replies[0] : replies);
        },
  );
  const transport: Transport = sse
    ? // In this SDK the SSE transport builds the EventSource's GET headers from
      // requestInit.headers too (its _commonHeaders), so one place carries them for the stream
      // and for every POST.
      new SSEClientTransport(url, { requestInit, fetch })
    : new StreamableHTTPClientTransport(url, { requestInit, fetch });
  return transport;
}

/** The ids of the requests in a POST body (one message or a batch); none for anything else. */
function requestIds(body: RequestInit['body']): Array<string | number> {
  if (typeof body !== 'string') return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    return messages.flatMap((m) => {
      const { id, method } = (m ?? {}) as { id?: unknown; method?: unknown };
      return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? [id] : [];
    });
  } catch {
    return [];
  }
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
