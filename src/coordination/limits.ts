/**
 * Size caps on what agents hand the coordination tools. Everything here is shared by every
 * coordinator on the store and shown to every agent (list_tasks, events), so one agent's 10 MB
 * description must not become everyone's 10 MB result. The tool schemas and the services both
 * use these numbers, so a library caller meets the same limits as an MCP client.
 */
import { InvalidArgumentError } from '../shared/errors.js';

export const LIMITS = {
  taskId: 512,
  title: 200,
  description: 10_000,
  /** Paths per task, lock set or conflict check. */
  files: 1_000,
  path: 4_096,
  capabilities: 32,
  capability: 64,
  dependsOn: 100,
  /** |priority|: any integer in ±1,000,000. */
  priority: 1_000_000,
  stepMessage: 2_000,
  stepDataBytes: 16 * 1024,
  /** Steps kept per task log (older ones are trimmed; the task's step count keeps counting). */
  stepsKept: 1_000,
  findLimit: 100,
  metadataBytes: 16 * 1024,
  stateKey: 256,
  stateValueBytes: 64 * 1024,
  cachePattern: 256,
  reason: 1_000,
} as const;

/** Bytes of `value` as JSON; throws naming `field` when over `max`. */
export function assertJsonBytes(field: string, value: unknown, max: number): number {
  const json = value === undefined ? undefined : JSON.stringify(value);
  const bytes = json === undefined ? 0 : Buffer.byteLength(json);
  if (bytes > max) {
    throw new InvalidArgumentError(`${field}: ${bytes} bytes of JSON; at most ${max} bytes are accepted`);
  }
  return bytes;
}

/** A claim adds its files to the task's own: the union is capped like any file list. */
export function assertTaskFiles(taskId: string, count: number): void {
  if (count > LIMITS.files) {
    throw new InvalidArgumentError(
      `files: task ${taskId} would list ${count} files with the ones this claim adds; at most ${LIMITS.files}`,
    );
  }
}
