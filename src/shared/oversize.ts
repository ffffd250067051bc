/**
 * What can be told about a message dropped for its size from its first and last few KB: its id
 * and whether it was a request (a `method` at the top level) or a response. Best effort — a
 * message's top level is only known for the keys before its first nested value (seen in the head)
 * or after its last one (seen in the tail); JSON-RPC's own answer to an unknown id is `id: null`.
 */
import type { MessageId, OversizeLine } from './json-lines.js';

export interface OversizeMessage {
  id: MessageId | null;
  kind: 'request' | 'response' | 'unknown';
  bytes: number;
}

const ID = String.raw`(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|"(?:[^"\\]|\\.)*")`;
/** `{ … "key": <value>` with no `{` or `[` before it: a top-level key in the head. */
const headKey = (key: string, value: string) =>
  new RegExp(String.raw`^\s*\{[^{}\[\]]*?"${key}"\s*:\s*${value}`);
/** `"key": <value> … }` with no `}` or `]` after it: a top-level key in the tail. */
const tailKey = (key: string, value: string) =>
  new RegExp(String.raw`"${key}"\s*:\s*${value}(?=[^{}\[\]]*\}\s*$)`);

const ID_PATTERNS = [headKey('id', ID), tailKey('id', ID)];
const METHOD = '"(?:[^"\\\\]|\\\\.)*"';
const METHOD_PATTERNS = [headKey('method', METHOD), tailKey('method', METHOD)];
const REPLY_PATTERNS = [headKey('(?:result|error)', ''), tailKey('(?:result|error)', '')];

export function describeOversize(line: OversizeLine): OversizeMessage {
  const edges = [line.head, line.tail];
  let id: MessageId | null = null;
  for (const [i, pattern] of ID_PATTERNS.entries()) {
    const found = pattern.exec(edges[i]!)?.[1];
    if (found !== undefined) {
      id = JSON.parse(found) as MessageId;
      break;
    }
  }
  const has = (patterns: RegExp[]) => patterns.some((pattern, i) => pattern.test(edges[i]!));
  const kind = has(METHOD_PATTERNS) ? 'request' : has(REPLY_PATTERNS) ? 'response' : 'unknown';
  return { id, kind, bytes: line.bytes };
}

/** "4 MB", "1 KB", "512 bytes": a limit or a size in the units a person reads. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}
