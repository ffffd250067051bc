/**
 * Coordination events as values: building them (ids, timestamps), parsing them off the wire,
 * signing and verifying them, and matching their types against globs. No I/O here; both bus
 * backends and any library client share these functions.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { EVENT_TYPES, type CoordinationEvent, type EventInput } from './types.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { redactValue } from '../shared/redact.js';
import { compileTypeGlob } from './type-glob.js';

/** Events older (or further in the future) than this are treated as replays when signing is on. */
export const DEFAULT_MAX_EVENT_AGE_MS = 60_000;

const MAX_SEQ = 999_999;

/**
 * Ids `<epoch ms, 13 digits>-<seq, 6 digits>-<8 hex>`: they sort by time then by publication
 * order within one generator, and the random tag keeps two coordinators publishing in the same
 * millisecond apart.
 */
export class EventIdGenerator {
  private lastMs = -1;
  private seq = 0;
  /** This generator's random tag, the ids' last part: it tells this publisher's events apart. */
  readonly tag = randomBytes(4).toString('hex');

  next(nowMs: number): string {
    const ms = Math.floor(nowMs);
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.seq = 0;
    } else if (this.seq < MAX_SEQ) {
      // Same millisecond, or the clock stepped back: stay on lastMs so ids keep increasing.
      this.seq += 1;
    } else {
      this.lastMs += 1;
      this.seq = 0;
    }
    return `${String(this.lastMs).padStart(13, '0')}-${String(this.seq).padStart(6, '0')}-${this.tag}`;
  }
}

export const EVENT_ID_PATTERN = /^(\d{13})-\d{6}-[0-9a-f]+$/;

/** The epoch ms an event id was minted at, or undefined when it is not an event id. */
export function eventIdTime(id: string): number | undefined {
  const match = EVENT_ID_PATTERN.exec(id);
  return match ? Number(match[1]) : undefined;
}

// Callers that do not bring their own generator (one-off library use) share this one; it only
// holds a counter, so sharing it cannot leak state between coordinators.
const fallbackIds = new EventIdGenerator();

export interface CreateEventOptions {
  source: string;
  agentId: string;
  clock?: () => number;
  ids?: EventIdGenerator;
  /** When set, the event is signed (HMAC-SHA256). */
  secret?: string;
}

export function createEvent(input: EventInput, options: CreateEventOptions): CoordinationEvent {
  const now = (options.clock ?? Date.now)();
  const event: CoordinationEvent = {
    id: (options.ids ?? fallbackIds).next(now),
    type: input.type,
    source: options.source,
    agentId: input.agentId ?? options.agentId,
    // Event data travels to every coordinator sharing the stream: nothing secret may ride along.
    data: redactValue(input.data),
    timestamp: new Date(now).toISOString(),
  };
  return options.secret === undefined ? event : signEvent(event, options.secret);
}

function hmac(event: object, secret: string): string {
  const { signature: _ignored, ...unsigned } = event as { signature?: unknown };
  return createHmac('sha256', secret).update(canonicalJson(unsigned)).digest('hex');
}

export function signEvent(event: CoordinationEvent, secret: string): CoordinationEvent {
  return { ...event, signature: hmac(event, secret) };
}

/** Any record (a registry entry …) signed the way events are: HMAC of its canonical JSON. */
export function signRecord<T extends object>(record: T, secret: string): T & { signature: string } {
  return { ...record, signature: hmac(record, secret) };
}

export type SignatureVerdict = 'ok' | 'unsigned' | 'forged';
export type EventVerdict = SignatureVerdict | 'replayed';

/** Signature only (no age or replay check): what replaying a stored history needs. */
export function checkSignature(event: object, secret: string): SignatureVerdict {
  const given = (event as { signature?: unknown }).signature;
  if (typeof given !== 'string' || given.length === 0) return 'unsigned';
  const expected = Buffer.from(hmac(event, secret), 'hex');
  const actual = Buffer.from(given, 'hex');
  // Buffer.from(hex) silently stops at the first bad digit; compare lengths of the decoded bytes.
  if (actual.length !== expected.length || given.length !== expected.length * 2) return 'forged';
  return timingSafeEqual(actual, expected) ? 'ok' : 'forged';
}

/** Ids of recently accepted events. Size-bounded: ids older than the age window are refused anyway. */
export type SeenIds = LRUCache<string, true>;

export function createSeenIds(max = 100_000): SeenIds {
  return new LRUCache<string, true>({ max });
}

/**
 * Signature, then freshness: an event older than `maxAgeMs` (or dated further ahead than that,
 * which would otherwise stretch its replay window) or an id in `seen` is a replay. An accepted
 * id is remembered in `seen`.
 */
export function verifyEvent(
  event: CoordinationEvent,
  secret: string,
  now: number,
  maxAgeMs = DEFAULT_MAX_EVENT_AGE_MS,
  seen?: SeenIds,
): EventVerdict {
  const signature = checkSignature(event, secret);
  if (signature !== 'ok') return signature;
  const at = Date.parse(event.timestamp);
  if (!Number.isFinite(at) || Math.abs(now - at) > maxAgeMs) return 'replayed';
  if (seen) {
    if (seen.has(event.id)) return 'replayed';
    seen.set(event.id, true);
  }
  return 'ok';
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * Shape check for an event off the wire. Hand-written rather than a zod schema because every
 * coordinator runs it on every event on the bus: in the bus benchmark zod cost more than the
 * JSON.parse before it. Extra fields (from a newer coordinator) are allowed here and covered by
 * the signature check; `parseEvent` then keeps only the contract's fields.
 */
function isWireEvent(value: unknown): value is CoordinationEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    v.id.length > 0 &&
    typeof v.type === 'string' &&
    KNOWN_TYPES.has(v.type) &&
    typeof v.source === 'string' &&
    typeof v.agentId === 'string' &&
    typeof v.timestamp === 'string' &&
    typeof v.data === 'object' &&
    v.data !== null &&
    !Array.isArray(v.data) &&
    (v.signature === undefined || typeof v.signature === 'string')
  );
}

export interface ParsedEvent {
  /** The contract's fields only. */
  event: CoordinationEvent;
  /** Everything that arrived, for signature checks. */
  raw: CoordinationEvent;
}

/** JSON off the wire → event, or undefined when it is not JSON or not an event of a known type. */
export function parseEvent(json: string): ParsedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isWireEvent(value)) return undefined;
  const raw = value;
  const event: CoordinationEvent = {
    id: raw.id,
    type: raw.type,
    source: raw.source,
    agentId: raw.agentId,
    data: raw.data,
    timestamp: raw.timestamp,
  };
  if (raw.signature !== undefined) event.signature = raw.signature;
  return { event, raw };
}

export { compileTypeGlob, MAX_TYPE_GLOB_LENGTH } from './type-glob.js';

export function matchesType(type: string, glob: string | undefined): boolean {
  return compileTypeGlob(glob)(type);
}
