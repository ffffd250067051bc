/**
 * A look at what a client sends before the SDK takes it: the SDK's stdio entry serves
 * `subscriptions/listen` itself (acknowledgement, filtering, the subscription id on every
 * notification), but which resources a modern client listens to is also what the coordinator must
 * subscribe to downstream. The tap sees each incoming message of the methods named, after the SDK.
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';

export function tapIncoming<T extends Transport>(
  transport: T,
  methods: ReadonlySet<string>,
  tap: (message: JSONRPCMessage) => void,
): T {
  let handler: Transport['onmessage'];
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler,
    set: (next: Transport['onmessage']) => {
      handler = next
        ? (message, extra) => {
            next(message, extra);
            // Only the methods asked for (nothing on the tools/call path); after the SDK, so the
            // session the message opens exists by the time the tap runs.
            const method = (message as { method?: unknown }).method;
            if (typeof method === 'string' && methods.has(method)) setImmediate(() => tap(message));
          }
        : undefined;
    },
  });
  return transport;
}

/** What `onIncoming` of a modern session acts on: listen requests and their cancellation. */
export const LISTEN_METHODS: ReadonlySet<string> = new Set([
  'subscriptions/listen',
  'notifications/cancelled',
]);
