/**
 * `fetch` whose response bodies cannot grow one message without bound: the bytes between two
 * blank lines (one SSE event; a whole JSON body, which has none) are counted, and past the limit
 * the body errors instead of buffering on (the SDK transport then fails that exchange) or, given
 * a replacement, the message is skipped and the replacement stands in its place.
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

/**
 * What stands in an over-size message's place in the body (a whole SSE event, or the whole JSON
 * body), or undefined for nothing. Given, the body goes on past the message instead of erroring:
 * a transport that resumes broken streams would fetch the same message again, and again.
 */
export type OversizeReplacement = (
  error: OversizeResponseError,
  init: RequestInit | undefined,
  response: Response,
) => string | undefined;

export function boundedFetch(
  maxMessageBytes: number,
  /** With the request whose response carried the message. */
  onOversize: (error: OversizeResponseError, init: RequestInit | undefined) => void,
  base: FetchLike = fetch,
  replace?: OversizeReplacement,
): FetchLike {
  return async (url, init) => {
    // The SDK transport gives every request its one long-lived signal, and fetch lets go of a
    // request's abort listener only once the request is garbage-collected: past 1,500 requests
    // between two collections Node warns of a leak on the bridge's stderr, once per request
    // (hundreds of lines in an IDE's log). The listeners go with their requests; lift the cap.
    if (init?.signal) setMaxListeners(0, init.signal);
    const response = await base(url, init);
    if (!response.body) return response;
    const report = (error: OversizeResponseError) => onOversize(error, init);
    const body = response.body.pipeThrough(
      replace
        ? replaceOversize(maxMessageBytes, (error) => {
            report(error);
            return replace(error, init, response);
          })
        : messageLimit(maxMessageBytes, report),
    );
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
 * Passes each message (the bytes up to and including a blank line, or the whole body) on once it
 * is complete; one over `limit` is not kept: from the limit on its bytes are skipped, and at its
 * end the replacement (if any) goes on in its place.
 */
function replaceOversize(
  limit: number,
  onOversize: (error: OversizeResponseError) => string | undefined,
): TransformStream<Uint8Array, Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let dropping = false;
  let afterNewline = false;
  const take = (bytes: Uint8Array) => {
    if (dropping || bytes.length === 0) return;
    size += bytes.length;
    if (size > limit) {
      dropping = true;
      parts = [];
      return;
    }
    parts.push(bytes);
  };
  const finish = (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (dropping) {
      const replacement = onOversize(new OversizeResponseError(limit));
      if (replacement) controller.enqueue(new TextEncoder().encode(replacement));
    } else {
      for (const part of parts) controller.enqueue(part);
    }
    parts = [];
    size = 0;
    dropping = false;
  };
  return new TransformStream({
    transform(chunk, controller) {
      // Line by line (indexOf, not a byte loop: this runs on every remote server's response); a
      // line is blank when it holds nothing but CRs, which a content line shows at its first byte.
      let from = 0;
      let at = 0;
      for (let nl = chunk.indexOf(LF, at); nl !== -1; nl = chunk.indexOf(LF, at)) {
        const blank = afterNewline && onlyCR(chunk, at, nl);
        at = nl + 1;
        afterNewline = !blank;
        if (!blank) continue;
        take(chunk.subarray(from, at));
        finish(controller);
        from = at;
      }
      afterNewline &&= onlyCR(chunk, at, chunk.length);
      take(chunk.subarray(from));
    },
    flush(controller) {
      if (dropping || parts.length > 0) finish(controller);
    },
  });
}

function onlyCR(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== CR) return false;
  return true;
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
