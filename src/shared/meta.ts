/**
 * `_meta` keys that belong to one hop only (routing hints, a progress token, a peer's serverInfo
 * or subscription id) are dropped before a message goes on: the one place that does it.
 */
export function withoutMetaKeys<T extends object>(message: T, drop: (key: string) => boolean): T {
  const meta = (message as { _meta?: Record<string, unknown> })._meta;
  if (!meta || !Object.keys(meta).some(drop)) return message;
  const rest = Object.fromEntries(Object.entries(meta).filter(([key]) => !drop(key)));
  const out = { ...message } as T & { _meta?: Record<string, unknown> };
  if (Object.keys(rest).length > 0) out._meta = rest;
  else delete out._meta;
  return out;
}
