/**
 * `fetch` whose response bodies cannot grow one message without bound: the bytes between two
 * blank lines (one SSE event; a whole JSON body, which has none) are counted, and past the limit
 * the body errors instead of buffering on. The SDK transport then fails that exchange.
 */
import { setMaxListeners } from 'node:events';
import type { FetchLike } from '@modelcontextprotocol/client';
import { formatBytes } from './oversize.js';

export class OversizeResponseError extends Error {
  constructor(readonly limit: number) {
    super(
      `a message from the server exceeds the ${formatBytes(limit)} limit (${limit} bytes); it was dropped`,
    );
  }
}

export function boundedFetch(
  maxMessageBytes: number,
  /** With the request whose response carried the message. */
  onOversize: (error: OversizeResponseError, init: RequestInit | undefined) => void,
  base: FetchLike = fetch,
): FetchLike {
  return async (url, init) => {
    // The SDK transport gives every request its one long-lived signal, and fetch lets go of a
    // request's abort listener only once the request is garbage-collected: past 1,500 requests
    // between two collections Node warns of a leak on the bridge's stderr, once per request
    // (hundreds of lines in an IDE's log). The listeners go with their requests; lift the cap.
    if (init?.signal) setMaxListeners(0, init.signal);
    const response = await base(url, init);
    if (!response.body) return response;
    const body = response.body.pipeThrough(messageLimit(maxMessageBytes, (error) => onOversize(error, init)));
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

const LF = 10;
const CR = 13;

function messageLimit(
  limit: number,
  onOversize: (error: OversizeResponseError) => void,
): TransformStream<Uint8Array, Uint8Array> {
  let size = 0;
  let afterNewline = false;
  return new TransformStream({
    transform(chunk, controller) {
      for (const byte of chunk) {
        if (byte === LF) {
          if (afterNewline) size = 0;
          afterNewline = true;
        } else if (byte !== CR) {
          afterNewline = false;
          if (++size > limit) {
            const error = new OversizeResponseError(limit);
            onOversize(error);
            controller.error(error);
            return;
          }
        }
      }
      controller.enqueue(chunk);
    },
  });
}

/**
 * `fetch` that reports when a successful GET (the legacy session's standalone SSE stream: the
 * only GET the transport makes) opens, and when its body ends or breaks.
 */
export function watchedGetFetch(base: FetchLike, on: { open(): void; end(): void }): FetchLike {
  const onEnd = on.end;
  return async (url, init) => {
    const response = await base(url, init);
    if (init?.method !== 'GET' || !response.ok || !response.body) return response;
    on.open();
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) {
            controller.close();
            onEnd();
          } else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          onEnd();
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
