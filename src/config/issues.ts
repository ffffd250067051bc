/**
 * zod issues → readable problems. zod's own messages ("Invalid input: expected string,
 * received number") say what went wrong to a programmer; a config user wants the key, what
 * it must be, what they wrote, and a way out ("quote it", "did you mean").
 */
import { z } from 'zod';
import { configSchema, remoteServerSchema, serverSchema, stdioServerSchema } from './schema.js';
import type { KeyPath } from './source-map.js';
import { closest } from './suggest.js';

export interface IssueContext {
  /** The data that was validated (servers.yml shape). */
  readonly data: unknown;
  /** The source text of the scalar at a servers.yml key path, for "quote it" hints. */
  textOf(path: KeyPath): string | undefined;
}

export interface IssueProblem {
  /** In servers.yml terms; the caller maps it to the file's own key path. */
  readonly path: KeyPath;
  readonly detail: string;
}

const DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isPlainObject(value)) value = value[String(segment)];
    else return undefined;
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

/** The branch a server entry validates against, chosen like `serverSchema` chooses it. */
function serverBranch(server: unknown): typeof stdioServerSchema | typeof remoteServerSchema {
  return isPlainObject(server) && server['command'] !== undefined ? stdioServerSchema : remoteServerSchema;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (
    current instanceof z.ZodOptional ||
    current instanceof z.ZodDefault ||
    current instanceof z.ZodPrefault ||
    current instanceof z.ZodNullable
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The object schema that validates the map at `path`, to list the keys it knows. */
function objectSchemaAt(path: KeyPath, data: unknown): z.ZodObject | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (let depth = 0; schema !== undefined; depth++) {
    schema = unwrap(schema);
    if (schema === serverSchema) schema = serverBranch(valueAt(data, path.slice(0, depth)));
    if (depth === path.length) return schema instanceof z.ZodObject ? schema : undefined;
    const segment = path[depth];
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(segment)];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return undefined;
  }
  return undefined;
}

function unknownKey(objectPath: KeyPath, key: string, data: unknown): string {
  const known = Object.keys(objectSchemaAt(objectPath, data)?.shape ?? {});
  const isServer = objectPath.length === 2 && objectPath[0] === 'servers';
  if (isServer && !known.includes(key)) {
    const stdio = serverBranch(valueAt(data, objectPath)) === stdioServerSchema;
    const other = Object.keys((stdio ? remoteServerSchema : stdioServerSchema).shape);
    if (other.includes(key)) {
      return stdio
        ? `unknown key "${key}" for a stdio server (it has command); ${key} belongs to url servers`
        : `unknown key "${key}" for a remote server (it has url); ${key} belongs to command servers`;
    }
  }
  const meant = closest(key, known);
  if (meant) return `unknown key "${key}" (did you mean "${meant}"?)`;
  return known.length > 0
    ? `unknown key "${key}" (expected one of: ${known.join(', ')})`
    : `unknown key "${key}"`;
}

export function describeIssue(issue: z.core.$ZodIssue, context: IssueContext): IssueProblem {
  const path = issue.path.filter((segment) => typeof segment !== 'symbol');
  const value = valueAt(context.data, path);
  const got = value === undefined ? '' : ` (got ${describe(value)})`;
  const custom = DEFAULT_MESSAGE.test(issue.message) ? undefined : issue.message;

  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      return { path: [...path, key], detail: unknownKey(path, key, context.data) };
    }
    case 'invalid_type': {
      if (path.length === 0) {
        return value === undefined || value === null
          ? { path, detail: 'the file is empty: expected a map with a servers key' }
          : { path, detail: `the top level must be a map with a servers key${got}` };
      }
      if (value === undefined) return { path, detail: 'is required' };
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (custom) return { path, detail: `${custom}${got}` };
      const text = context.textOf(path);
      const quote =
        issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? `; quote it: "${text ?? String(value)}"`
          : '';
      return { path, detail: `must be ${expected}${got}${quote}` };
    }
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'string') {
        return {
          path,
          detail: minimum <= 1 ? 'must not be empty' : `must be at least ${minimum} characters`,
        };
      }
      if (issue.origin === 'array') {
        return { path, detail: `must have at least ${minimum} item${minimum === 1 ? '' : 's'}` };
      }
      const bound = issue.inclusive ? `at least ${minimum}` : `greater than ${minimum}`;
      return { path, detail: `must be ${bound}${got}` };
    }
    case 'too_big': {
      if (custom) return { path, detail: `${custom}${got}` };
      const maximum = Number(issue.maximum);
      const bound = issue.inclusive ? `at most ${maximum}` : `less than ${maximum}`;
      return { path, detail: `must be ${bound}${got}` };
    }
    case 'invalid_format': {
      if (custom) return { path, detail: `${custom}${got}` };
      const what =
        issue.format === 'regex' && issue.pattern ? `match ${issue.pattern}` : `be a valid ${issue.format}`;
      return { path, detail: `must ${what}${got}` };
    }
    case 'invalid_value': {
      const allowed = issue.values.map((option) => JSON.stringify(option)).join(', ');
      return { path, detail: `must be one of ${allowed}${got}` };
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const detail = inner && !DEFAULT_MESSAGE.test(inner.message) ? inner.message : 'is not a valid key';
      return { path, detail };
    }
    default:
      return { path, detail: custom ?? issue.message };
  }
}
