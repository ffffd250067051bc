import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandString, isStdio, parseConfigText } from '../../../src/config/index.js';
import { assertRejects } from './config-error.js';

function expanded(text: string, env: Record<string, string | undefined>): string {
  const result = expandString(text, env);
  assert.ok(result.ok, result.ok ? '' : result.detail);
  return result.value;
}

function failure(text: string, env: Record<string, string | undefined> = {}): string {
  const result = expandString(text, env);
  assert.equal(result.ok, false, `expected ${text} to fail`);
  return result.ok ? '' : result.detail;
}

describe('expandString', () => {
  test('${VAR} takes the value, several times in one string', () => {
    assert.equal(expanded('${A}-${B}/${A}', { A: 'x', B: 'y' }), 'x-y/x');
  });

  test('${VAR} set to "" gives ""', () => {
    assert.equal(expanded('[${A}]', { A: '' }), '[]');
  });

  test('${VAR:-default} uses the default when unset or empty', () => {
    assert.equal(expanded('${PORT:-8080}', {}), '8080');
    assert.equal(expanded('${PORT:-8080}', { PORT: '' }), '8080');
    assert.equal(expanded('${PORT:-8080}', { PORT: '9090' }), '9090');
    assert.equal(expanded('${URL:-http://localhost:1/x?a=b}', {}), 'http://localhost:1/x?a=b');
  });

  test('${VAR:-} yields ""', () => {
    assert.equal(expanded('${REDIS_URL:-}', {}), '');
  });

  test('${env:VAR} is the same as ${VAR}', () => {
    assert.equal(expanded('Bearer ${env:TOKEN}', { TOKEN: 't' }), 'Bearer t');
  });

  test('$${ is a literal ${, and is not expanded', () => {
    assert.equal(expanded('$${HOME} is ${HOME}', { HOME: '/h' }), '${HOME} is /h');
    assert.equal(expanded('$${NOT_SET}', {}), '${NOT_SET}');
  });

  test('a lone $ or $$ stays as written', () => {
    assert.equal(expanded('pa$$word $5 $HOME {x}', { HOME: '/h' }), 'pa$$word $5 $HOME {x}');
  });

  test('an unset variable without default is an error naming it', () => {
    assert.match(failure('Bearer ${DOCS_TOKEN}'), /^\$\{DOCS_TOKEN\} is not set/);
  });

  test('malformed and unterminated references are errors, not literals', () => {
    assert.match(failure('${1X}'), /malformed \$\{1X\}/);
    assert.match(failure('${X-default}'), /malformed \$\{X-default\}/);
    assert.match(failure('${}'), /malformed \$\{\}/);
    assert.match(failure('abc ${HOME'), /unterminated \$\{HOME/);
    assert.match(failure('${A:-${B}}'), /nested/);
  });

  test('the default is not expanded again', () => {
    assert.equal(expanded('${A:-$B}', { B: 'b' }), '$B');
  });
});

describe('expansion in the config', () => {
  const FILE = '/projects/demo/servers.yml';

  test('every string value is expanded; keys are not', () => {
    const text = `servers:
  a:
    command: \${BIN:-node}
    args: ["\${ROOT}/server.js", --flag]
    env:
      "\${LITERAL_KEY}": "\${ROOT}"
    cwd: \${ROOT}
routing:
  rules:
    - when: { context: { stage: "\${STAGE:-dev}" } }
      target: a
coordination:
  prefix: "\${PREFIX:-mcp:}"
`;
    const config = parseConfigText(text, FILE, { ROOT: '/srv' });
    const a = config.servers['a'];
    assert.ok(a && isStdio(a));
    assert.equal(a.command, 'node');
    assert.deepEqual(a.args, ['/srv/server.js', '--flag']);
    assert.deepEqual(a.env, { '${LITERAL_KEY}': '/srv' });
    assert.equal(a.cwd, '/srv');
    assert.deepEqual(config.routing.rules[0]?.when.context, { stage: 'dev' });
    assert.equal(config.coordination.prefix, 'mcp:');
  });

  test('the escape survives into the config', () => {
    const config = parseConfigText(
      'servers:\n  a:\n    command: sh\n    args: [-c, "echo $${HOME}"]\n',
      FILE,
      {},
    );
    const a = config.servers['a'];
    assert.ok(a && isStdio(a));
    assert.deepEqual(a.args, ['-c', 'echo ${HOME}']);
  });

  test('an unset variable names file, line, key and variable', () => {
    const text = `servers:
  docs:
    url: http://127.0.0.1:4100/mcp
    headers: { Authorization: "Bearer \${DOCS_TOKEN}" }
`;
    assertRejects(text, {
      line: 4,
      key: 'servers.docs.headers.Authorization',
      detail: /^\$\{DOCS_TOKEN\} is not set/,
    });
  });

  test('the line is the one holding the variable inside a multi-line value', () => {
    const text =
      'servers:\n  a:\n    command: sh\n    args:\n      - |\n        echo one\n        echo ${MISSING}\n';
    assertRejects(text, { line: 7, key: 'servers.a.args[0]', detail: /\$\{MISSING\} is not set/ });
  });

  test('a malformed reference is a ConfigError too', () => {
    assertRejects('servers:\n  a:\n    command: "${BIN"\n', {
      line: 3,
      key: 'servers.a.command',
      detail: /unterminated \$\{BIN/,
    });
  });

  test('expanded values stay strings: a number field says so', () => {
    assertRejects('servers: {}\ncoordination:\n  lockTtlMs: ${TTL:-1000}\n', {
      line: 3,
      key: 'coordination.lockTtlMs',
      detail: /must be a number \(got "1000"\)/,
    });
  });
});
