/**
 * Where things are in the config text. The loader validates plain JS data (after `toJS`), so
 * every complaint comes back as a key path; this module turns a key path into the 1-based line
 * the user should look at, using the parsed YAML document and its `LineCounter`.
 */
import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type Scalar } from 'yaml';

/** A key path into the config: map keys as strings, list indexes as numbers. */
export type KeyPath = ReadonlyArray<string | number>;

/** One thing wrong with the config, before it becomes a `ConfigError`. */
export interface Problem {
  /** The key path in the file's own terms (e.g. `mcpServers.x.type` in a Claude Desktop file). */
  readonly path: KeyPath;
  readonly detail: string;
  /** Set when the line is more precise than the path's (a `${VAR}` inside a multi-line value). */
  readonly line?: number;
}

/** `servers.memory.command`, `routing.rules[1].target`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** A map key as the JS data (and thus zod's paths) spells it. */
function keyName(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** The 1-based line of a character offset. */
  lineAt(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  /**
   * The line of the node at `path`: the key's line for a map entry (a nested map starts on the
   * next line, but the entry is named on this one), the item's line for a list item. A path
   * that does not exist (a missing key) gives the line of its nearest existing parent.
   */
  lineOf(path: KeyPath): number {
    let node: unknown = this.doc.contents;
    let offset = this.startOf(node) ?? 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => keyName(item.key) === String(segment));
        if (!pair) break;
        offset = this.startOf(pair.key) ?? this.startOf(pair.value) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (item === undefined) break;
        offset = this.startOf(item) ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return this.lineAt(offset);
  }

  /** The keys of the map at `path` as written (before any conversion could drop one). */
  keysAt(path: KeyPath): string[] {
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (!isMap(node)) return [];
      node = node.items.find((item) => keyName(item.key) === String(segment))?.value;
    }
    return isMap(node) ? node.items.map((item) => keyName(item.key)) : [];
  }

  /**
   * The key path of the deepest entry that contains `offset` (where a YAML syntax error
   * was found), so even a syntax error can name its key.
   */
  pathAt(offset: number): KeyPath {
    const contains = (node: unknown): boolean => {
      const range = isNode(node) ? node.range : undefined;
      return !!range && range[0] <= offset && offset < Math.max(range[2], range[0] + 1);
    };
    const path: Array<string | number> = [];
    let node: unknown = this.doc.contents;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((item) => contains(item.key) || contains(item.value));
        if (!pair) break;
        path.push(keyName(pair.key));
        if (contains(pair.key)) break;
        node = pair.value;
      } else if (isSeq(node)) {
        const index = node.items.findIndex(contains);
        if (index < 0) break;
        path.push(index);
        node = node.items[index];
      } else {
        break;
      }
    }
    return path;
  }

  /** The text the node at `path` was written as (`8080`, `"a b"`), if it exists. */
  textOf(path: KeyPath): string | undefined {
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (isMap(node)) node = node.items.find((item) => keyName(item.key) === String(segment))?.value;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    const range = isScalar(node) ? node.range : undefined;
    return range ? this.text.slice(range[0], range[1]) : undefined;
  }

  /**
   * The line on which `token` appears inside a scalar's source, so a `${VAR}` on the third
   * line of a block scalar is reported there; the scalar's first line if it is not found
   * verbatim (e.g. written with escapes).
   */
  lineOfToken(node: Scalar, token: string): number {
    const range = node.range;
    if (!range) return 1;
    const index = this.text.slice(range[0], range[1]).indexOf(token);
    return this.lineAt(range[0] + Math.max(index, 0));
  }

  /**
   * Every scalar VALUE (map keys excluded), in document order, with its key path. Aliases are
   * skipped: their anchor is visited where it is written, and `toJS` copies the result.
   */
  forEachValue(visit: (node: Scalar, path: KeyPath) => void): void {
    const walk = (node: unknown, path: KeyPath): void => {
      if (isScalar(node)) visit(node, path);
      else if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, keyName(pair.key)]);
      else if (isSeq(node)) node.items.forEach((item, index) => walk(item, [...path, index]));
    };
    walk(this.doc.contents, []);
  }

  private startOf(node: unknown): number | undefined {
    return isNode(node) ? (node.range?.[0] ?? undefined) : undefined;
  }
}
