/**
 * `connect URL [--token T] [--header K:V ...]`: this process's stdio bridged to a running
 * coordinator's (or any Streamable HTTP MCP server's) endpoint. Everything a user can get wrong —
 * the URL, a key in it, a malformed header — is a usage error (exit 2) before anything connects.
 */
import { createLogger, parseLogLevel } from '../shared/logger.js';
import { redact } from '../shared/redact.js';
import { UsageError, type ParsedArgs } from './args.js';
import { installLifecycle } from './lifecycle.js';
import { isCredentialParam } from '../http/credential-params.js';
import { printNote } from './output.js';

export interface ConnectTarget {
  url: URL;
  headers: Record<string, string>;
}

/** Query parameters that carry credentials; keys belong in headers, where logs do not keep them. */
const CREDENTIAL_PARAM =
  /^(?:(?:api|access|auth|client|private|secret|session|id|refresh)[-_]?)?(?:key|token|secret|password|passwd|pwd|auth|authorization|signature|sig|credentials?)$/i;

/** Headers the transport derives from the session and each message; a --header must not fight it. */
const TRANSPORT_HEADERS = new Set([
  'content-type',
  'accept',
  'content-length',
  'host',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function connectTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): ConnectTarget {
  const url = endpointUrl(args.positionals[0] ?? '');
  const headers: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const option of args.values.header ?? []) {
    const colon = option.indexOf(':');
    const name = colon > 0 ? option.slice(0, colon).trim() : '';
    const value = colon > 0 ? option.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name)) {
      // Only the name part is shown: what follows may be a secret.
      const shown = colon > 0 ? `"${option.slice(0, colon)}:…"` : "(with no ':' in it)";
      throw new UsageError(`a --header ${shown} is not NAME:VALUE`, 'connect');
    }
    if (/[\r\n\0]/.test(value))
      throw new UsageError(`--header ${name}: the value has a line break`, 'connect');
    const lower = name.toLowerCase();
    if (TRANSPORT_HEADERS.has(lower)) {
      throw new UsageError(`--header ${name}: set by the MCP transport itself, not by hand`, 'connect');
    }
    if (names.has(lower)) throw new UsageError(`--header ${name} is given twice`, 'connect');
    names.set(lower, name);
    headers[name] = value;
  }
  const fromFlag = args.values.token;
  const token = fromFlag ?? (env.MCP_COORDINATOR_TOKEN?.trim() || undefined);
  if (fromFlag !== undefined && !fromFlag.trim()) throw new UsageError('--token is empty', 'connect');
  if (token !== undefined) {
    const source = fromFlag !== undefined ? '--token' : '$MCP_COORDINATOR_TOKEN';
    if (/\s/.test(token.trim())) throw new UsageError(`${source} has white space in it`, 'connect');
    if (names.has('authorization')) {
      throw new UsageError(`${source} and --header Authorization: give one of them`, 'connect');
    }
    headers.Authorization = `Bearer ${token.trim()}`;
  }
  return { url, headers };
}

function endpointUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${redact(text)}" is not a URL (e.g. http://127.0.0.1:8766/mcp)`, 'connect');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${url.protocol} URLs are not served: connect needs http:// or https://`, 'connect');
  }
  if (url.username || url.password) {
    throw new UsageError(
      'the URL carries user:password@ credentials; keys are never put in URLs: use --token or ' +
        '$MCP_COORDINATOR_TOKEN',
      'connect',
    );
  }
  const keys = [...url.searchParams.keys()].filter(
    (key) => CREDENTIAL_PARAM.test(key) || isCredentialParam(key),
  );
  if (keys.length > 0) {
    throw new UsageError(
      `the URL carries a credential in its query (${keys.map((k) => `${k}=`).join(', ')}); keys are ` +
        'never put in URLs (logs and proxies keep them): use --token or $MCP_COORDINATOR_TOKEN',
      'connect',
    );
  }
  return url;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function runConnect(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const { url, headers } = connectTarget(args, env);
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname) && Object.keys(headers).length > 0) {
    printNote(`warning: connect sends credentials to ${url.host} over plain http; use https`);
  }
  const logger = createLogger({ level: parseLogLevel(env.MCP_COORDINATOR_LOG_LEVEL ?? 'warn') });
  const [{ HttpBridge }, { StdioServerTransport }] = await Promise.all([
    import('../bridge/http-bridge.js'),
    import('../shared/stdio-server-transport.js'),
  ]);
  const bridge = new HttpBridge({
    url,
    headers,
    client: new StdioServerTransport(),
    say: (line) => process.stderr.write(`${redact(line)}\n`),
    debug: (line) => logger.debug(line),
  });
  // stdin's end is the IDE leaving: the session is closed (DELETE) and the process exits 0.
  installLifecycle({ close: () => bridge.close(), killAllSync: () => {} }, logger, { watchStdin: true });
  await bridge.start();
  logger.info(`connect: bridging stdio to ${url.href}`);
  return new Promise<number>(() => {});
}
