import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/index.js';
import { redact } from '../../../src/shared/redact.js';

test('an API key written literally in http.auth.keys never leaves through a log or an error', () => {
  parseConfigText(
    'servers: {}\nhttp:\n  auth:\n    keys:\n      - { name: ci, key: literal-key-0123456789abcdef }\n',
    'keys.yml',
    {},
  );
  // Not after "Bearer" (that shape is always redacted): the key itself, anywhere.
  const line = redact('refused key literal-key-0123456789abcdef (from ci)');
  assert.ok(!line.includes('literal-key-0123456789abcdef'), line);
  assert.match(line, /refused key \S+ \(from ci\)/);
});
