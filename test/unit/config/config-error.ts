/** Shared assertion for config tests: the thrown error is one ConfigError at file:line: key. */
import assert from 'node:assert/strict';
import { parseConfigText, type Env } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/shared/errors.js';

export const FILE = '/projects/demo/servers.yml';

export interface Expected {
  readonly line: number;
  readonly key: string;
  readonly detail: RegExp;
  readonly file?: string;
}

export function assertConfigError(error: unknown, expected: Expected): true {
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  const file = expected.file ?? FILE;
  assert.equal(error.file, file);
  assert.equal(error.line, expected.line, error.message);
  assert.equal(error.key, expected.key, error.message);
  assert.match(error.detail, expected.detail);
  assert.equal(
    error.message,
    `${file}:${expected.line}: ${expected.key ? `${expected.key}: ` : ''}${error.detail}`,
  );
  return true;
}

/** Parses `text` as FILE and asserts the ConfigError it must throw. */
export function assertRejects(text: string, expected: Expected, env: Env = {}): void {
  assert.throws(
    () => parseConfigText(text, expected.file ?? FILE, env),
    (error) => assertConfigError(error, expected),
  );
}
