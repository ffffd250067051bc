/**
 * Host and Origin checks against DNS rebinding and cross-site requests: a page on evil.example
 * whose name re-resolves to 127.0.0.1 reaches a loopback server with `Host: evil.example`, and any
 * page can make a browser POST to localhost with its own `Origin`. Both are refused here.
 *
 * The SDK's `validateHostHeader` / `validateOriginHeader` do the parsing and the hostname match;
 * this module adds what they leave out: allow-list entries with a port, the defaults by bind
 * address, and exact origins (scheme and port too) for the server's own pages and
 * `http.allowedOrigins`, since a hostname-only match would let any other local dev server's page
 * (http://localhost:3000) drive the coordinator.
 */
import { isIPv4, isIPv6 } from 'node:net';
import {
  localhostAllowedHostnames,
  validateHostHeader,
  validateOriginHeader,
} from '@modelcontextprotocol/server';

export type OriginCheck =
  { ok: true } | { ok: false; status: 403; code: 'host_not_allowed' | 'origin_not_allowed'; message: string };

const OK: OriginCheck = { ok: true };
/** The allow-list entry that accepts any Host (a wildcard bind without `http.allowedHosts`). */
export const ANY_HOST = '*';

interface HostPort {
  /** As `URL.hostname` has it: lower case, punycode, IPv6 in brackets. */
  hostname: string;
  /** Digits without leading zeros; undefined when none was written. */
  port?: string;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]\\]+)(?::(\d{1,5}))?$/;

/** `name`, `name:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; undefined when none of those. */
function parseHostPort(text: string): HostPort | undefined {
  let value = text.trim();
  // A bare IPv6 address (config entries only; a Host header always brackets it).
  if ((value.match(/:/g) ?? []).length > 1 && !value.startsWith('[')) value = `[${value}]`;
  const match = HOST_PORT.exec(value);
  if (!match?.[1]) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}`).hostname;
  } catch {
    return undefined;
  }
  if (match[2] === undefined) return { hostname };
  const port = Number(match[2]);
  return port <= 65_535 ? { hostname, port: String(port) } : undefined;
}

/** localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped), with or without brackets. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || (isIPv4(name) && name.startsWith('127.'))) return true;
  const v6 = normalizeIPv6(name);
  return v6 === '[::1]' || (v6?.startsWith('[::ffff:7f') ?? false);
}

/** All interfaces: `0.0.0.0`, `::`, or no host at all (Node binds every interface then). */
function isWildcardBind(host: string): boolean {
  const name = host.trim().replace(/^\[(.*)\]$/, '$1');
  return name === '' || name === '0.0.0.0' || normalizeIPv6(name) === '[::]';
}

/** The WHATWG form (`[::1]`), so that `0:0:0:0:0:0:0:1` and `::1` compare equal. */
function normalizeIPv6(address: string): string | undefined {
  return isIPv6(address) ? new URL(`http://[${address}]`).hostname : undefined;
}

/**
 * The Host values to accept. A non-empty configured list wins (entries `name`, `name:port`,
 * `[v6]`, `[v6]:port`, or `*` for any). Otherwise by bind address: a loopback bind accepts
 * localhost, 127.0.0.1 and [::1] (and the bind address itself) on any port; a specific
 * non-loopback bind accepts that address; a wildcard bind (`0.0.0.0`, `::`) accepts any Host,
 * since the names clients use cannot be known, and such a bind needs `http.auth` anyway, which
 * is what a rebinding page lacks. Throws on an entry that is not a host.
 */
export function allowedHostsFor(listenHost: string, configured?: readonly string[]): readonly string[] {
  if (configured && configured.length > 0) {
    return unique(
      configured.map((entry) => {
        if (entry.trim() === ANY_HOST) return ANY_HOST;
        const parsed = parseHostPort(entry);
        if (!parsed) throw new Error(`http.allowedHosts: "${entry}" is not a host name or host:port`);
        return format(parsed);
      }),
    );
  }
  if (isWildcardBind(listenHost)) return [ANY_HOST];
  const bind = parseHostPort(listenHost);
  if (!bind) throw new Error(`http.listen: "${listenHost}" is not a host name or address`);
  if (isLoopbackHost(listenHost)) return unique([...localhostAllowedHostnames(), bind.hostname]);
  return [bind.hostname];
}

/** Whether a request's Host header is one of `allowed` (from {@link allowedHostsFor}). */
export function checkHost(hostHeader: string | undefined, allowed: readonly string[]): OriginCheck {
  if (allowed.includes(ANY_HOST)) return OK;
  const presented = hostHeader ? parseHostPort(hostHeader) : undefined;
  if (!presented) {
    return refuseHost(hostHeader ? `Host header "${clip(hostHeader)}" is malformed` : 'Host header missing');
  }
  // Entries without a port match any port; with one, only that port (a Host without a port is
  // the scheme's default, 80 or 443).
  const presentedPorts = presented.port === undefined ? ['80', '443'] : [presented.port];
  const hostnames = allowed.flatMap((entry) => {
    const parsed = parseHostPort(entry);
    if (!parsed) return [];
    return parsed.port === undefined || presentedPorts.includes(parsed.port) ? [parsed.hostname] : [];
  });
  const verdict = validateHostHeader(hostHeader, hostnames);
  if (verdict.ok) return OK;
  return refuseHost(
    `Host "${clip(format(presented))}" is not allowed (DNS rebinding protection); ` +
      'list it in http.allowedHosts if clients use that name',
  );
}

/** The origins of pages the coordinator itself serves, reached under a (checked) Host. */
export function selfOriginsFor(hostHeader: string): string[] {
  const parsed = parseHostPort(hostHeader);
  if (!parsed) return [];
  const host = format(parsed);
  return [`http://${host}`, `https://${host}`];
}

export interface OriginPolicy {
  /** `http.allowedOrigins`: full origins (`https://app.example:8443`), a bare hostname (any
   * scheme and port), or `<scheme>://*` for a non-web scheme (e.g. `moz-extension://*`). */
  allowedOrigins: readonly string[];
  /** The server's own origins, e.g. from {@link selfOriginsFor}. */
  selfOrigins: readonly string[];
}

/**
 * A request without Origin passes (it is not from a browser). `Origin: null` (sandboxed pages,
 * files) and anything that does not parse are refused; otherwise the origin must be one of the
 * server's own or an allowed one.
 */
export function checkOrigin(originHeader: string | undefined, policy: OriginPolicy): OriginCheck {
  if (originHeader === undefined || originHeader === '') return OK;
  const entries = [...policy.selfOrigins, ...policy.allowedOrigins].flatMap(parseOriginEntry);
  // The SDK's check first: it refuses `null` and unparsable values and filters by hostname.
  const sdkList = entries.map((e) => (e.kind === 'scheme' ? `${e.scheme}//*` : e.hostname));
  const verdict = validateOriginHeader(originHeader, sdkList);
  if (!verdict.ok) {
    const opaque = originHeader.trim() === 'null' ? ' (an opaque origin: a sandboxed page or a file)' : '';
    return refuseOrigin(`Origin "${clip(originHeader)}"${opaque} is not allowed`);
  }
  const url = new URL(originHeader);
  const origin = `${url.protocol}//${url.host}`;
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const allowed = entries.some((e) => {
    if (e.kind === 'origin') return e.origin === origin;
    if (e.kind === 'host') return web && e.hostname === url.hostname && (e.port ?? port) === port;
    return !web && e.scheme === url.protocol;
  });
  if (allowed) return OK;
  return refuseOrigin(
    `Origin "${clip(origin)}" is not allowed; list it in http.allowedOrigins to let its pages in`,
  );
}

type OriginEntry =
  | { kind: 'origin'; origin: string; hostname: string }
  | { kind: 'host'; hostname: string; port?: string }
  | { kind: 'scheme'; scheme: string };

/** An entry that is none of the documented forms matches nothing. */
function parseOriginEntry(entry: string): OriginEntry[] {
  const text = entry.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\/\*$/i.exec(text);
  if (scheme?.[1]) return [{ kind: 'scheme', scheme: scheme[1].toLowerCase() }];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return url.hostname
        ? [{ kind: 'origin', origin: `${url.protocol}//${url.host}`, hostname: url.hostname }]
        : [];
    } catch {
      return [];
    }
  }
  const bare = parseHostPort(text);
  return bare ? [{ kind: 'host', ...bare }] : [];
}

function format(hp: HostPort): string {
  return hp.port === undefined ? hp.hostname : `${hp.hostname}:${hp.port}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Header values are the caller's text: shown, but not at any length. */
function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function refuseHost(message: string): OriginCheck {
  return { ok: false, status: 403, code: 'host_not_allowed', message };
}

function refuseOrigin(message: string): OriginCheck {
  return { ok: false, status: 403, code: 'origin_not_allowed', message };
}
