/**
 * Shared state and cache invalidation: set_state, get_state, delete_state (small JSON values with
 * an optional TTL, seen by every coordinator) and invalidate_cache (every coordinator drops the
 * matching cached tool results).
 */
import { z } from 'zod';

import type { CacheInvalidation } from './cache-invalidation.js';
import { LIMITS } from './limits.js';
import { MAX_STATE_TTL_MS, type SharedState } from './state/service.js';
import { defineTool, ok, type CoordinationTool } from './tool-kit.js';

const key = z
  .string()
  .min(1)
  .max(LIMITS.stateKey)
  .describe('Name of the value: letters, digits and _ . : / @ -');

export function stateTools(state: SharedState, caches: CacheInvalidation): CoordinationTool[] {
  return [
    defineTool(
      'set_state',
      `Share a JSON value (at most ${LIMITS.stateValueBytes / 1024} KB) under a key with every agent, optionally for ttlMs.`,
      z.object({
        key,
        value: z.unknown().describe('Any JSON value'),
        ttlMs: z
          .number()
          .int()
          .min(1)
          .max(MAX_STATE_TTL_MS)
          .optional()
          .describe('Forget it after this many ms'),
      }),
      async (a, who) => {
        const set = await state.set(a.key, a.value, who, a.ttlMs);
        return ok({ set: true, ...set, expiresAt: set.expiresAt ?? null });
      },
    ),
    defineTool('get_state', 'Read a shared value.', z.object({ key }), async (a) => {
      const entry = await state.get(a.key);
      if (!entry) return ok({ key: a.key, found: false });
      return ok({ key: a.key, found: true, value: entry.value, expiresAt: entry.expiresAt ?? null });
    }),
    defineTool('delete_state', 'Delete a shared value.', z.object({ key }), async (a, who) =>
      ok({ key: a.key, deleted: await state.delete(a.key, who) }),
    ),
    defineTool(
      'invalidate_cache',
      'Make every coordinator drop its cached results of the tools matching a glob over <server>__<tool> (e.g. memory__*).',
      z.object({
        pattern: z.string().min(1).max(LIMITS.cachePattern).describe('Glob: * any characters, ? one'),
        reason: z.string().max(LIMITS.reason).optional().describe('Why, for the event'),
      }),
      async (a, who) => {
        const { pattern, dropped } = caches.invalidate(a.pattern, who, a.reason);
        return ok({ invalidated: true, pattern, droppedHere: dropped });
      },
    ),
  ];
}
