/**
 * JSON answers of the HTTP face: `{ "error": { "code", "message" } }` with a fitting status, and
 * the web-standard Response the SDK hands back written onto Node's ServerResponse (streamed, so
 * an SSE answer flows as it is produced).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatBytes } from '../shared/oversize.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}

/**
 * The body, at most `limit` bytes: a declared length over the limit is refused before reading,
 * a stream that grows past it is cut off (413 either way).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: Error) => {
      req.off('data', onData);
      req.resume(); // drain what is still coming, keep the socket sane for the 413
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', fail);
  });
}

function tooLarge(limit: number): HttpError {
  // The rest of the body is not read: the connection cannot carry another request after it.
  return new HttpError(413, 'body_too_large', `request body over ${formatBytes(limit)} (http.maxBodyBytes)`, {
    connection: 'close',
  });
}

/** Node's request as a web-standard Request over an already read body. */
export function toWebRequest(
  req: IncomingMessage,
  url: URL,
  body: Buffer | undefined,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Request(url, {
    method: req.method,
    headers,
    signal,
    ...(body && body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' && { body }),
  });
}

/** Writes a web Response onto Node's response, streaming its body; resolves when done. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = { ...SECURITY_HEADERS };
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') headers[name] = response.headers.getSetCookie();
    else headers[name] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => {});
  res.once('close', stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value))
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
      if (res.destroyed) break;
    }
  } catch {
    // The client went away or the stream was cancelled: nothing left to tell anyone.
  } finally {
    res.off('close', stop);
    res.end();
  }
}
