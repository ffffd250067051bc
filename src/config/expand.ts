/**
 * `${VAR}` expansion in string values.
 *
 * - `${VAR}`: the variable's value; unset is an error (never kept verbatim, never silently "").
 *   Set but empty gives "".
 * - `${VAR:-default}`: the default when VAR is unset OR empty (the shell's `:-`); `${VAR:-}`
 *   gives "". The default is literal text up to the first `}`; it is not expanded again.
 * - `${env:VAR}` (Cursor's spelling in `mcp.json`) means `${VAR}`, so such files load as-is.
 * - `${input:ID}` (VS Code: prompt the user) is an error saying what to write instead: nobody
 *   is there to answer a prompt when the coordinator starts a server.
 * - `$${` is a literal `${` (the docker-compose escape). A `$` anywhere else is just a `$`,
 *   so passwords like `pa$$word` need no escaping.
 * - Anything else after `${` (`${1X}`, `${X-y}`, a missing `}`) is an error rather than a
 *   silent literal: it is almost always a typo, and `$${` says "literal" on purpose.
 *
 * The caller passes the environment, so tests never touch `process.env`. A substituted value is
 * marked secret for `shared/redact` when the variable is named like a secret or the key carries
 * credentials (headers, env, coordination backends).
 */
import { markSecret } from '../shared/redact.js';
import type { SourceMap, Problem } from './source-map.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A `${VAR}` that was replaced: the variable and the text it gave. */
export interface Substitution {
  readonly name: string;
  readonly value: string;
}

export type Expansion =
  | { readonly ok: true; readonly value: string; readonly substituted: readonly Substitution[] }
  | { readonly ok: false; readonly detail: string; readonly token: string };

const TOKEN = /\$\$\{|\$\{([^}]*)(\})?/g;
const REFERENCE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?:(:-)(.*))?$/s;

export function expandString(text: string, env: Env): Expansion {
  if (!text.includes('${')) return { ok: true, value: text, substituted: [] };
  const substituted: Substitution[] = [];
  let value = '';
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    value += text.slice(last, match.index);
    last = match.index + token.length;
    if (token === '$${') {
      value += '${';
      continue;
    }
    const body = match[1] ?? '';
    if (match[2] === undefined) {
      return {
        ok: false,
        token,
        detail: `unterminated ${token}: missing "}" (write $\${ for a literal \${)`,
      };
    }
    const reference = REFERENCE.exec(body);
    if (!reference && body.startsWith('input:')) {
      const variable = body
        .slice('input:'.length)
        .replace(/[^A-Za-z0-9]+/g, '_')
        .toUpperCase();
      return {
        ok: false,
        token,
        detail:
          `${token} asks VS Code to prompt for a value, which the coordinator cannot do: ` +
          `export ${variable || 'A_VARIABLE'} and write \${${variable || 'A_VARIABLE'}} instead`,
      };
    }
    if (!reference) {
      return {
        ok: false,
        token,
        detail: `malformed ${token}: expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`,
      };
    }
    const [, name = '', hasDefault, fallback = ''] = reference;
    if (fallback.includes('${')) {
      return { ok: false, token, detail: `nested \${...} in the default of ${token} is not supported` };
    }
    const current = env[name];
    if (hasDefault) value += current ? current : fallback;
    else if (current !== undefined) value += current;
    if (current !== undefined && (current || !hasDefault)) substituted.push({ name, value: current });
    if (hasDefault || current !== undefined) continue;
    return {
      ok: false,
      token,
      detail: `\${${name}} is not set (export it, or write \${${name}:-default})`,
    };
  }
  return { ok: true, value: value + text.slice(last), substituted };
}

/** Variables whose value is a secret wherever it is used. */
const SECRET_NAME =
  /TOKEN|SECRET|PASS(WORD|WD)?|PWD|KEY|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE|DSN|DATABASE_URL|REDIS_URL/i;

/**
 * Keys whose values carry credentials: auth entries, the coordination backends and secret, and a
 * header or a child's env variable named like a secret (`Authorization`, `API_KEY: ${X}`; `${HOME}`
 * in a path stays readable in logs).
 */
function isCredentialPath(path: readonly (string | number)[]): boolean {
  const last = String(path[path.length - 1]);
  if (path.some((segment) => segment === 'auth')) return true;
  if (path[path.length - 2] === 'env' || path[path.length - 2] === 'headers') return SECRET_NAME.test(last);
  return ['redis', 'postgres', 'secret', 'key'].includes(last);
}

/**
 * Expands every string value of the parsed document in place (keys are left alone), so line
 * numbers survive. Returns one problem per value that could not be expanded; that value is
 * left as written.
 */
export function expandDocument(source: SourceMap, env: Env): Problem[] {
  const problems: Problem[] = [];
  source.forEachValue((node, path) => {
    if (typeof node.value !== 'string') return;
    const result = expandString(node.value, env);
    if (result.ok) {
      node.value = result.value;
      for (const { name, value } of result.substituted) {
        if (SECRET_NAME.test(name) || isCredentialPath(path)) markSecret(value);
      }
    } else problems.push({ path, detail: result.detail, line: source.lineOfToken(node, result.token) });
  });
  return problems;
}
