/**
 * Send one request to one downstream and classify what comes back. The only place a
 * downstream call is made, so timeouts, progress relay, cancellation and error mapping live here.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  LOG_LEVEL_META_KEY,
  type Result,
  SdkError,
  SdkErrorCode,
  SERVER_INFO_META_KEY,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Downstream } from '../downstream/types.js';
import { TransportFailureError } from '../shared/errors.js';
import { withoutMetaKeys } from '../shared/meta.js';

export const META_TARGET = 'coordinator/target';
export const META_CONTEXT = 'coordinator/context';
export const META_ROUTING = 'coordinator/routing';

type ProgressParams = { progress: number; total?: number; message?: string };

/**
 * What `client.request` checks a downstream result against. The Protocol has already checked
 * `result` against the SDK's ResultSchema when it classified the response, so a second parse
 * (a full copy of every result, ~3 KB of garbage per echo call) adds nothing: the result passes
 * through as the downstream sent it.
 */
const AlreadyValidated = z.custom<Result>();

export interface ForwardContext {
  /** Aborted when the upstream client cancels (notifications/cancelled) or disconnects. */
  signal?: AbortSignal;
  /** The upstream client's progress token; when set, downstream progress is relayed under it. */
  progressToken?: string | number;
  sendProgress?: (params: ProgressParams & { progressToken: string | number }) => Promise<void>;
  /** Told which downstream the request runs on, for as long as it runs (returns the undo). */
  track?: (serverId: string) => () => void;
  /** A modern downstream's `input_required` comes back as the result instead of failing. */
  allowInputRequired?: boolean;
  /** The log level the caller asked for, put on the envelope of a request to a modern downstream. */
  logLevel?: string;
  /**
   * What the calling client can answer, put on the envelope of a request to a modern downstream
   * in place of the coordinator's own: a downstream then asks (input_required) only for what the
   * client declared, and refuses (-32021) what it needs but the client cannot do.
   */
  clientCapabilities?: ClientCapabilities;
}

export interface OutgoingRequest {
  method: string;
  params?: Record<string, unknown>;
}

/** Strip what only the coordinator reads (routing hints, the upstream progress token). */
export function downstreamParams(
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  return (
    params && withoutMetaKeys(params, (k) => k === META_TARGET || k === META_CONTEXT || k === 'progressToken')
  );
}

export async function forward(
  downstream: Downstream,
  request: OutgoingRequest,
  context: ForwardContext = {},
): Promise<Result> {
  const timeout = downstream.config.timeoutMs;
  const client = await downstream.whenReady(timeout);
  const { progressToken, sendProgress } = context;
  const untrack = context.track?.(downstream.id);
  // Progress sends still being written (made only when a call has progress: not per echo).
  let relayed: Set<Promise<void>> | undefined;
  try {
    const modern = client.getProtocolEra() === 'modern';
    const outgoing = modern ? withCallerEnvelope(request, context) : request;
    const result = await client.request(outgoing as never, AlreadyValidated, {
      signal: context.signal,
      timeout,
      resetTimeoutOnProgress: true,
      allowInputRequired: context.allowInputRequired && modern,
      onprogress:
        progressToken !== undefined && sendProgress
          ? (p: ProgressParams) => {
              const sent = sendProgress({ ...p, progressToken }).catch(() => {});
              const pending = (relayed ??= new Set());
              pending.add(sent);
              void sent.finally(() => pending.delete(sent));
            }
          : undefined,
    });
    // Progress relayed before the result reaches the client before it (after the result a
    // client drops progress of a finished request).
    if (relayed && relayed.size > 0) await Promise.all(relayed);
    return withoutPeerInfo(result);
  } catch (error) {
    const failure = classify(downstream.id, error, context.signal);
    // Unless the client never got to write it, the request reached the server and may have run.
    if (failure instanceof TransportFailureError) failure.sent = !notWritten(error);
    throw failure;
  } finally {
    untrack?.();
  }
}

/** The caller's log level and capabilities on the envelope (the client's own keys yield to these). */
function withCallerEnvelope(request: OutgoingRequest, context: ForwardContext): OutgoingRequest {
  const { logLevel, clientCapabilities } = context;
  if (logLevel === undefined && clientCapabilities === undefined) return request;
  const meta = {
    ...(request.params?._meta as Record<string, unknown> | undefined),
    ...(logLevel !== undefined && { [LOG_LEVEL_META_KEY]: logLevel }),
    ...(clientCapabilities !== undefined && { [CLIENT_CAPABILITIES_META_KEY]: clientCapabilities }),
  };
  return { ...request, params: { ...request.params, _meta: meta } };
}

function notWritten(error: unknown): boolean {
  return (
    error instanceof SdkError &&
    (error.code === SdkErrorCode.NotConnected || error.code === SdkErrorCode.SendFailed)
  );
}

/**
 * A modern downstream stamps its own serverInfo on every result's `_meta`; upstream the server is
 * the coordinator, which stamps its own. Everything else in `_meta` but `coordinator/*` passes.
 */
function withoutPeerInfo(result: Result): Result {
  // `coordinator/*` keys are ours to set (routing, the server that asked): a downstream's own
  // would steer where a client's answers go.
  return withoutMetaKeys(result, (k) => k === SERVER_INFO_META_KEY || k.startsWith('coordinator/'));
}

/** Connection-level failures become TransportFailureError (may fail over); the rest stay final. */
export function classify(serverId: string, error: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return error;
  if (error instanceof SdkError) {
    if (
      error.code === SdkErrorCode.ConnectionClosed ||
      error.code === SdkErrorCode.NotConnected ||
      error.code === SdkErrorCode.SendFailed
    ) {
      return new TransportFailureError(serverId, 'closed', `${serverId}: connection closed during the call`, {
        cause: error,
      });
    }
    if (error.code === SdkErrorCode.RequestTimeout) {
      return new TransportFailureError(serverId, 'timeout', `${serverId}: no answer within its timeout`, {
        cause: error,
      });
    }
    return error;
  }
  if (error instanceof Error && /not connected/i.test(error.message)) {
    return new TransportFailureError(serverId, 'closed', `${serverId}: not connected`, { cause: error });
  }
  return error;
}
