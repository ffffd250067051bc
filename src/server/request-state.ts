/**
 * The `requestState` the coordinator mints for a modern client: sealed with HMAC-SHA256 (the
 * `coordination.secret` when set, so any instance sharing it can open it; else a key of this
 * process), bound to the caller, and short-lived. Anything else reaching the SDK's verify hook —
 * forged, expired, or minted for another caller — is refused with -32602 before any handler runs,
 * so it reaches no downstream.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a round carries across the client. */
export type SealedState =
  /**
   * A downstream request parked in one process, waiting for the client's answer: the exchange id
   * and the tag of the instance that holds it (a retry landing elsewhere is forwarded there).
   */
  | { k: 'x'; x: string; i?: string }
  /** A modern downstream's own input_required, passed through: its state, echoed byte for byte. */
  | { k: 'p'; d: string; rs?: string };

interface Envelope {
  /** The payload. */
  s: SealedState;
  /** The caller it was minted for. */
  c: string;
  /** Expiry, ms since the epoch. */
  e: number;
}

export class RequestStateSealer {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly ttlMs: number = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.key = secret ? Buffer.from(`mcp-coordinator/requestState/${secret}`) : randomBytes(32);
  }

  seal(state: SealedState, caller: string): string {
    const body = Buffer.from(
      JSON.stringify({ s: state, c: caller, e: this.now() + this.ttlMs } satisfies Envelope),
    );
    return `${body.toString('base64url')}.${this.mac(body).toString('base64url')}`;
  }

  /** The payload, or a reason it is refused (never echoed to the client). */
  open(token: string, caller: string): SealedState {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 65_536) throw new Error('requestState: malformed');
    const body = Buffer.from(token.slice(0, dot), 'base64url');
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new Error('requestState: bad signature');
    }
    const envelope = JSON.parse(body.toString('utf8')) as Envelope;
    if (envelope.c !== caller) throw new Error('requestState: minted for another caller');
    if (!(envelope.e > this.now())) throw new Error('requestState: expired');
    return envelope.s;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}
