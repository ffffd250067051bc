/**
 * Send one request to one downstream and classify what comes back. The only place a
 * downstream call is made, so timeouts, progress relay, cancellation and error mapping live here.
 */
import { ErrorCode, McpError, type Result } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Downstream } from '../downstream/types.js';
import { TransportFailureError } from '../shared/errors.js';

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
}

export interface OutgoingRequest {
  method: string;
  params?: Record<string, unknown>;
}

/** Strip what only the coordinator reads (routing hints, the upstream progress token). */
export function downstreamParams(
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const meta = params?._meta as Record<string, unknown> | undefined;
  if (!params || !meta) return params;
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (k !== META_TARGET && k !== META_CONTEXT && k !== 'progressToken') rest[k] = v;
  }
  const out = { ...params };
  if (Object.keys(rest).length > 0) out._meta = rest;
  else delete out._meta;
  return out;
}

export async function forward(
  downstream: Downstream,
  request: OutgoingRequest,
  context: ForwardContext = {},
): Promise<Result> {
  const timeout = downstream.config.timeoutMs;
  const client = await downstream.whenReady(timeout);
  const { progressToken, sendProgress } = context;
  try {
    return await client.request(request as never, AlreadyValidated, {
      signal: context.signal,
      timeout,
      resetTimeoutOnProgress: true,
      onprogress:
        progressToken !== undefined && sendProgress
          ? (p: ProgressParams) => void sendProgress({ ...p, progressToken }).catch(() => {})
          : undefined,
    });
  } catch (error) {
    throw classify(downstream.id, error, context.signal);
  }
}

/** Connection-level failures become TransportFailureError (may fail over); the rest stay final. */
export function classify(serverId: string, error: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return error;
  if (error instanceof McpError) {
    if (error.code === ErrorCode.ConnectionClosed) {
      return new TransportFailureError(serverId, 'closed', `${serverId}: connection closed during the call`, {
        cause: error,
      });
    }
    if (error.code === ErrorCode.RequestTimeout) {
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
