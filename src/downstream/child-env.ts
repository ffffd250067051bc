/**
 * The environment a stdio child starts with. Not the coordinator's whole environment: that holds
 * `REDIS_URL` (with its password), `MCP_EVENTS_SECRET` (with which anyone can forge signed events),
 * API keys and tokens meant for the coordinator alone. A child gets a minimal set that programs
 * need to run at all — where to find commands, the user, home, locale, temp dirs, which
 * certificate authorities to trust, and on Windows what the OS itself needs — plus what its `inheritEnv` names (or everything, `inheritEnv: all`),
 * with its configured `env` on top.
 */

/** Inherited by every child, when set. Compared case-insensitively on Windows. */
export const MINIMAL_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'TZ',
  'LANG',
  'LANGUAGE',
  'TMPDIR',
  'TMP',
  'TEMP',
  // Which certificate authorities to trust: paths, not secrets, and without them a server behind
  // a company's TLS-inspecting proxy cannot reach anything (`npx` waits on the registry forever).
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Windows
  'APPDATA',
  'COMSPEC',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATHEXT',
  'PROCESSOR_ARCHITECTURE',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'USERNAME',
  'USERPROFILE',
  'WINDIR',
];

/** Locale variables (`LC_ALL`, `LC_CTYPE`, …) are inherited as a family. */
const MINIMAL_PREFIXES: readonly string[] = ['LC_'];

/** `all`, or names (an entry ending in `*` names every variable that starts with the rest). */
export type InheritEnv = 'all' | readonly string[];

export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  configured: Readonly<Record<string, string>>,
  inherit: InheritEnv = [],
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const fold = platform === 'win32' ? (name: string) => name.toUpperCase() : (name: string) => name;
  const names = new Set([...MINIMAL_ENV_NAMES, ...(inherit === 'all' ? [] : inherit)].map(fold));
  const prefixes = [
    ...MINIMAL_PREFIXES,
    ...(inherit === 'all' ? [] : inherit.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1))),
  ].map(fold);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    const key = fold(name);
    const wanted = inherit === 'all' || names.has(key) || prefixes.some((p) => key.startsWith(p));
    // A value starting with "()" is an exported shell function: a known injection vector.
    if (wanted && !value.startsWith('()')) env[name] = value;
  }
  return { ...env, ...configured };
}
