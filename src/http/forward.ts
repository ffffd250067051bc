/**
 * One HTTP request handed on to another instance as it came — method, headers (credentials
 * included: the owner authenticates the caller again), the body already read — and the answer
 * streamed back as it is produced (an SSE stream flows through).
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, not the request. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export interface ForwardOptions {
  req: IncomingMessage;
  res: ServerResponse;
  target: URL;
  /** The request body, already read by the face (absent: none). */
  body: Buffer | undefined;
  /** Added to the request's own headers. */
  headers: Record<string, string>;
  /**
   * The connection to the target must be made within this. The answer itself may take as long as
   * the call does (a modern answer's headers come with its result): the owner bounds the call by
   * its server's timeoutMs, the client its request, and a client going away ends it here too.
   */
  connectTimeoutMs: number;
}

/**
 * Resolves true once the target's answer has been written to `res` (streamed to its end, or until
 * either side went away); false when the target could not be reached (refused, not connected in
 * time, or the connection failed before an answer) — `res` is then untouched and the caller
 * answers itself.
 */
export function forwardRequest(options: ForwardOptions): Promise<boolean> {
  const { req, res, target, body } = options;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'content-length') continue;
    headers[name] = value;
  }
  Object.assign(headers, options.headers);
  if (body && body.length > 0) headers['content-length'] = String(body.length);
  const https = target.protocol === 'https:';
  return new Promise<boolean>((resolve) => {
    let answered = false;
    const outgoing = (https ? httpsRequest : httpRequest)(target, {
      method: req.method ?? 'GET',
      headers,
      agent: https ? agents.https : agents.http,
    });
    const timer = setTimeout(
      () => outgoing.destroy(new Error('not connected in time')),
      options.connectTimeoutMs,
    );
    timer.unref();
    outgoing.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => clearTimeout(timer));
      else clearTimeout(timer); // a kept-alive connection
    });
    const clientGone = () => outgoing.destroy();
    res.once('close', clientGone);
    outgoing.once('error', () => {
      clearTimeout(timer);
      res.off('close', clientGone);
      if (answered) res.destroy();
      resolve(answered);
    });
    outgoing.once('response', (incoming) => {
      clearTimeout(timer);
      answered = true;
      const back: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) back[name] = value;
      }
      res.writeHead(incoming.statusCode ?? 502, back);
      res.flushHeaders();
      incoming.pipe(res);
      incoming.once('end', () => {
        res.off('close', clientGone);
        resolve(true);
      });
      incoming.once('error', () => {
        res.destroy();
        resolve(true);
      });
      incoming.once('close', () => resolve(true));
    });
    outgoing.end(body && body.length > 0 ? body : undefined);
  });
}
