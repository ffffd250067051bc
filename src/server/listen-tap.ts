/**
 * A look at what a client sends before the SDK takes it: the SDK's stdio entry serves
 * `subscriptions/listen` itself (acknowledgement, filtering, the subscription id on every
 * notification), but which resources a modern client listens to is also what the coordinator must
 * subscribe to downstream. The tap sees each incoming message once, after the SDK has it.
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';

export function tapIncoming<T extends Transport>(transport: T, tap: (message: JSONRPCMessage) => void): T {
  let handler: Transport['onmessage'];
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler,
    set: (next: Transport['onmessage']) => {
      handler = next
        ? (message, extra) => {
            next(message, extra);
            // After the SDK: the session the message opens exists by the time the tap runs.
            setImmediate(() => tap(message));
          }
        : undefined;
    },
  });
  return transport;
}
