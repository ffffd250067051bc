/**
 * The era bridge for requests that may need the client's input on the way (tools/call,
 * prompts/get, resources/read):
 * - a legacy downstream asks mid-call (sampling, elicitation, roots): a legacy client is asked
 *   directly (see the hub); for a modern client the question is parked in an Exchange and the
 *   client gets `input_required`, its retry carries the answer back to the waiting downstream;
 * - a modern downstream answers `input_required`: it is handed on, its own `requestState` sealed
 *   inside ours, and the retry goes to the same downstream with the answers and that state byte for
 *   byte. For a legacy client the SDK's shim turns it into real server→client requests and
 *   re-enters the handler with the answers, so both eras take the same path here.
 */
import { randomUUID } from 'node:crypto';
import {
  inputRequired,
  isInputRequiredResult,
  type InputRequests,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { InvalidArgumentError } from '../shared/errors.js';
import { envelopeOf, forwardContext, type UpstreamContext } from './context.js';
import { Exchange } from './exchange.js';
import type { CallOrigin } from './hub.js';
import type { SealedState } from './request-state.js';
import type { ForwardContext } from '../router/forward.js';

/** Parked exchanges one process keeps at most (each holds a downstream call open). */
const MAX_EXCHANGES = 1_000;

export interface PassThroughRetry {
  /** The downstream that asked. */
  serverId: string;
  /** Its `requestState`, byte for byte, and the client's answers. */
  requestState?: string;
  inputResponses?: Record<string, unknown>;
}

/**
 * Run one bridged request. `run` does the work (routing and forwarding) with the forward context
 * given; `retry` sends a pass-through retry to the downstream that asked.
 */
export async function bridged(
  up: UpstreamContext,
  ctx: ServerContext,
  params: { _meta?: Record<string, unknown> } | undefined,
  run: (forward: ForwardContext) => Promise<Result>,
  retry: (forward: ForwardContext, retry: PassThroughRetry) => Promise<Result>,
): Promise<Result> {
  const { session } = up;
  const envelope = envelopeOf(ctx);
  if (session.era === 'modern')
    session.noteEnvelope(envelope.capabilities, ctx.mcpReq.envelope as Record<string, unknown>);
  const state = ctx.mcpReq.requestState<SealedState>();
  if (state !== undefined && typeof state !== 'object') {
    throw new InvalidArgumentError('requestState was not minted by this coordinator');
  }
  if (state?.k === 'x') {
    const exchange = up.exchanges.get(state.x);
    if (!exchange || exchange.owner !== session.caller || exchange.settled) {
      throw new InvalidArgumentError(
        'inputResponses answer an exchange that no longer exists (the call ended or timed out); call again',
      );
    }
    exchange.answer(ctx.mcpReq.inputResponses);
    return step(up, exchange, ctx.mcpReq.signal);
  }
  const origin: CallOrigin = { session, ctx, logLevel: envelope.logLevel };
  const forward = forwardContext(up, ctx, params, origin);
  const work =
    state?.k === 'p'
      ? () =>
          retry(forward, {
            serverId: state.d,
            requestState: state.rs,
            inputResponses: ctx.mcpReq.inputResponses,
          })
      : () => run(forward);
  if (session.era === 'legacy') return passOn(up, await work());
  if (up.exchanges.size >= MAX_EXCHANGES) {
    throw new InvalidArgumentError(`too many calls are waiting for their clients' input (${MAX_EXCHANGES})`);
  }
  const exchange = new Exchange<Result>(randomUUID(), session.caller, 'input');
  forward.signal = exchange.controller.signal;
  origin.exchange = exchange as Exchange<unknown>;
  up.exchanges.set(exchange.id, exchange as Exchange<unknown>);
  // The call is bounded by its server's timeoutMs, answered or not: once it ends, its exchange
  // goes (a client still waiting in step() gets the outcome; a late retry a clear error).
  const call = work();
  exchange.attach(call);
  call.then(
    () => up.exchanges.delete(exchange.id),
    () => up.exchanges.delete(exchange.id),
  );
  return step(up, exchange, ctx.mcpReq.signal);
}

/** The next thing a modern client hears: the outcome, or the questions of this round. */
async function step(up: UpstreamContext, exchange: Exchange<unknown>, signal: AbortSignal): Promise<Result> {
  // The client cancelling the request that waits here cancels the call.
  const cancel = () => exchange.controller.abort(signal.reason);
  signal.addEventListener('abort', cancel, { once: true });
  let next;
  try {
    next = await exchange.next();
  } catch (error) {
    up.exchanges.delete(exchange.id);
    throw error;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  if (next.done) {
    up.exchanges.delete(exchange.id);
    return passOn(up, next.result as Result);
  }
  return inputRequired({
    inputRequests: next.inputRequests as unknown as InputRequests,
    requestState: up.sealer.seal({ k: 'x', x: exchange.id, i: up.instanceTag }, up.session.caller),
  }) as unknown as Result;
}

/** A modern downstream's input_required, handed on with its state sealed in ours. */
function passOn(up: UpstreamContext, result: Result): Result {
  if (!isInputRequiredResult(result)) return result;
  const serverId = routedTarget(result);
  if (!serverId) throw new InvalidArgumentError('input_required from a server that cannot be told apart');
  return inputRequired({
    ...(result.inputRequests && { inputRequests: result.inputRequests }),
    requestState: up.sealer.seal(
      { k: 'p', d: serverId, ...(result.requestState !== undefined && { rs: result.requestState }) },
      up.session.caller,
    ),
  }) as unknown as Result;
}

function routedTarget(result: Result): string | undefined {
  const routing = result._meta?.['coordinator/routing'] as { target?: string } | undefined;
  const origin = result._meta?.['coordinator/server'];
  return routing?.target ?? (typeof origin === 'string' ? origin : undefined);
}

/** An input_required result names the server that asked, so the retry can go back to it. */
export function tagAsker(result: Result, serverId: string): Result {
  if (!isInputRequiredResult(result)) return result;
  return { ...result, _meta: { ...result._meta, 'coordinator/server': serverId } };
}
