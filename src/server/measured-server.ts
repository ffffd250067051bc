/**
 * The SDK's low-level Server, timing every request it serves for the metrics
 * (`mcp_server_operation_duration_seconds{mcp_method_name}`). The SDK runs each registered handler
 * through `_wrapHandler` (also the ones it registers itself: initialize, ping, server/discover), so
 * one override times them all, validation included: two clock reads and a call, nothing awaited
 * beyond the handler itself.
 */
import { Server, type JSONRPCRequest, type Result, type ServerContext } from '@modelcontextprotocol/server';

export type OperationObserver = (method: string, seconds: number) => void;

type Handler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

export class MeasuredServer extends Server {
  /** Read when a request runs, not when its handler is wrapped: the SDK wraps some in `super()`. */
  private observer: OperationObserver | undefined;

  constructor(observer: OperationObserver, ...args: ConstructorParameters<typeof Server>) {
    super(...args);
    this.observer = observer;
  }

  protected override _wrapHandler(method: string, handler: Handler): Handler {
    const inner = super._wrapHandler(method, handler);
    return async (request, ctx) => {
      const started = performance.now();
      try {
        return await inner(request, ctx);
      } finally {
        this.observer?.(method, (performance.now() - started) / 1000);
      }
    };
  }
}
