/**
 * `add`, `remove`, `enable`, `disable`: servers.yml edited in place through the yaml Document
 * API, so comments, key order and layout survive; the result is validated exactly as a start
 * would validate it, and written (atomically) only when valid. A running coordinator picks the
 * change up through its config watcher.
 *
 * Other clients' files (`mcpServers`, JSON) are edited in their own terms: `disabled: true`
 * instead of `enabled: false`, and a `.json` file is written back as JSON.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { parseConfigText, SERVER_ID, type Env } from '../config/index.js';
import { closest } from '../config/suggest.js';
import { ConfigError } from '../shared/errors.js';
import { UsageError } from './args.js';

export type ServerEdit =
  | { kind: 'add'; id: string; entry: { url: string } | { command: string; args: string[] } }
  | { kind: 'remove' | 'enable' | 'disable'; id: string };

/** Applies one edit to the file; returns a one-line summary for stdout. */
export async function editServers(file: string, env: Env, edit: ServerEdit): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      undefined,
      '',
      code === 'ENOENT' ? 'config file not found (create one with mcp-coordinator init)' : String(error),
    );
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) parseConfigText(text, file, env); // reports the syntax error with its line
  const { key, servers, desktop } = serversMap(doc, file);
  const summary = apply(doc, key, servers, desktop, edit);
  const next = file.endsWith('.json') ? `${JSON.stringify(doc.toJS(), null, 2)}\n` : doc.toString();
  parseConfigText(next, file, env); // throws ConfigError: nothing is written
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, next);
  await rename(tmp, file);
  return `${file}: ${summary}`;
}

function serversMap(doc: Document, file: string): { key: string; servers: YAMLMap; desktop: boolean } {
  const key = doc.has('mcpServers') ? 'mcpServers' : 'servers';
  let servers = doc.get(key, true);
  if (servers === undefined || (servers !== null && !isMap(servers) && isEmptyScalar(servers))) {
    doc.set(key, doc.createNode({}));
    servers = doc.get(key, true);
  }
  if (!isMap(servers)) throw new ConfigError(file, undefined, key, 'must be a map of servers to edit it');
  return { key, servers, desktop: key === 'mcpServers' };
}

function isEmptyScalar(node: unknown): boolean {
  return (
    typeof node === 'object' && node !== null && 'value' in node && (node as { value: unknown }).value == null
  );
}

function apply(doc: Document, key: string, servers: YAMLMap, desktop: boolean, edit: ServerEdit): string {
  const { id } = edit;
  if (edit.kind === 'add') {
    if (!SERVER_ID.test(id)) throw new UsageError(`server id "${id}" must match [A-Za-z0-9_.-]+`, 'add');
    if (servers.has(id))
      throw new UsageError(`server "${id}" is already configured (remove it first)`, 'add');
    const node = doc.createNode(edit.entry);
    const args = isMap(node) ? node.get('args', true) : undefined;
    if (isSeq(args)) args.flow = true; // args: [-y, pkg], as people write them
    servers.set(doc.createNode(id), node);
    return `added ${id} (${'url' in edit.entry ? edit.entry.url : 'stdio'})`;
  }
  const entry = servers.get(id, true);
  if (entry === undefined) {
    const ids = servers.items.map((pair) => String((pair.key as { value?: unknown })?.value ?? pair.key));
    const meant = closest(id, ids);
    throw new UsageError(
      `no server "${id}" in ${key}` +
        (meant ? ` (did you mean "${meant}"?)` : ` (configured: ${ids.join(', ') || 'none'})`),
      edit.kind,
    );
  }
  if (edit.kind === 'remove') {
    servers.delete(id);
    return `removed ${id}`;
  }
  if (!isMap(entry)) throw new UsageError(`server "${id}" is not a map; edit it by hand`, edit.kind);
  const on = edit.kind === 'enable';
  if (desktop) {
    if (on) entry.delete('disabled');
    else entry.set('disabled', true);
  } else if (on) {
    entry.delete('enabled');
  } else {
    entry.set('enabled', false);
  }
  return `${on ? 'enabled' : 'disabled'} ${id}`;
}
