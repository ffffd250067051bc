/** Every kind of config error names the file, the 1-based line and the key path. */
import { describe, test } from 'node:test';
import { assertRejects } from './config-error.js';

describe('schema errors', () => {
  test('unknown key at the top level, with a suggestion', () => {
    assertRejects('servers: {}\nroutng:\n  default: x\n', {
      line: 2,
      key: 'routng',
      detail: /unknown key "routng" \(did you mean "routing"\?\)/,
    });
  });

  test('unknown key with no close match lists the known keys', () => {
    assertRejects('servers: {}\nnamespace:\n  colour: red\n', {
      line: 3,
      key: 'namespace.colour',
      detail: /unknown key "colour" \(expected one of: separator, maxNameLength\)/,
    });
  });

  test('unknown key inside a server', () => {
    assertRejects('servers:\n  memory:\n    command: node\n    argz: [a]\n', {
      line: 4,
      key: 'servers.memory.argz',
      detail: /unknown key "argz" \(did you mean "args"\?\)/,
    });
  });

  test('a remote-only key on a stdio server says why', () => {
    assertRejects('servers:\n  memory:\n    command: node\n    transport: sse\n', {
      line: 4,
      key: 'servers.memory.transport',
      detail: /for a stdio server \(it has command\); transport belongs to url servers/,
    });
  });

  test('a stdio-only key on a remote server says why', () => {
    assertRejects('servers:\n  docs:\n    url: https://d.example/mcp\n    env: {}\n', {
      line: 4,
      key: 'servers.docs.env',
      detail: /for a remote server \(it has url\); env belongs to command servers/,
    });
  });

  test('a server with neither command nor url', () => {
    assertRejects('servers:\n  memory:\n    args: [x]\n', {
      line: 2,
      key: 'servers.memory',
      detail: /^needs either command \(stdio\) or url \(remote\)$/,
    });
  });

  test('a misspelt command is pointed out', () => {
    assertRejects('servers:\n  memory:\n    comand: node\n', {
      line: 2,
      key: 'servers.memory',
      detail: /needs either command \(stdio\) or url \(remote\) \(is "comand" a typo for "command"\?\)/,
    });
  });

  test('a server with both command and url', () => {
    assertRejects('servers:\n  a: { command: x }\n  memory:\n    command: node\n    url: http://x/mcp\n', {
      line: 3,
      key: 'servers.memory',
      detail: /has both command and url/,
    });
  });

  test('a server that is not a map', () => {
    assertRejects('servers:\n  memory: node server.js\n', {
      line: 2,
      key: 'servers.memory',
      detail: /must be a map with command \(stdio\) or url \(remote\)/,
    });
  });

  test('bad server id a+b', () => {
    assertRejects('servers:\n  ok: { command: x }\n  a+b:\n    command: x\n', {
      line: 3,
      key: 'servers.a+b',
      detail: /server id must match \[A-Za-z0-9_.-\]\+/,
    });
  });

  test('a missing key is reported on the line of its parent', () => {
    assertRejects('servers: {}\nrouting:\n  rules:\n    - when: { context: { a: 1 } }\n      reason: r\n', {
      line: 4,
      key: 'routing.rules[0].target',
      detail: /^is required$/,
    });
  });

  test('when.context must be a map', () => {
    assertRejects('servers: {}\nrouting:\n  rules:\n    - when:\n        context: [a]\n      target: x\n', {
      line: 5,
      key: 'routing.rules[0].when.context',
      detail: /must be a map .*\(got a list\)/,
    });
  });

  test('a wrong type names what was written', () => {
    assertRejects('servers:\n  a:\n    command: x\n    timeoutMs: soon\n', {
      line: 4,
      key: 'servers.a.timeoutMs',
      detail: /must be a number \(got "soon"\)/,
    });
  });

  test('a number where a string is expected suggests quoting it as written', () => {
    assertRejects('servers:\n  a:\n    command: x\n    env:\n      VERSION: 1.10\n', {
      line: 5,
      key: 'servers.a.env.VERSION',
      detail: /must be a string \(got 1\.1\); quote it: "1\.10"/,
    });
  });

  test('an enum value lists the choices', () => {
    assertRejects('servers:\n  a:\n    url: https://a/\n    transport: websocket\n', {
      line: 4,
      key: 'servers.a.transport',
      detail: /must be one of "streamable-http", "sse" \(got "websocket"\)/,
    });
  });

  test('a url must be http(s)', () => {
    assertRejects('servers:\n  a: { url: "ftp://files.example" }\n', {
      line: 2,
      key: 'servers.a.url',
      detail: /must be an http:\/\/ or https:\/\/ URL/,
    });
  });

  test('a number out of range', () => {
    assertRejects('servers: {}\nnamespace:\n  maxNameLength: 8\n', {
      line: 3,
      key: 'namespace.maxNameLength',
      detail: /must be at least 16 \(got 8\)/,
    });
  });

  test('an empty file', () => {
    assertRejects('# nothing yet\n', { line: 1, key: '', detail: /the file is empty/ });
  });

  test('a top level that is not a map', () => {
    assertRejects('- memory\n', { line: 1, key: '', detail: /top level must be a map .*\(got a list\)/ });
  });

  test('a missing servers key', () => {
    assertRejects('routing:\n  rules: []\n', { line: 1, key: 'servers', detail: /^is required$/ });
  });
});

describe('YAML syntax errors', () => {
  test('bad YAML reports the line of the YAML error', () => {
    assertRejects('servers:\n  memory:\n    command: node\n    args: [a, b\nrouting: {}\n', {
      line: 5,
      key: '',
      detail: /^invalid YAML\/JSON: /,
    });
  });

  test('bad indentation', () => {
    assertRejects('servers:\n  a:\n    command: x\n   args: []\n', {
      line: 4,
      key: '',
      detail: /invalid YAML/,
    });
  });

  test('duplicate keys name the key and the line of the second one', () => {
    assertRejects('servers:\n  a:\n    command: x\n  b:\n    command: y\n    command: z\n', {
      line: 6,
      key: 'servers.b.command',
      detail: /duplicate key/,
    });
  });

  test('duplicate keys in JSON too', () => {
    assertRejects(
      '{\n  "mcpServers": {\n    "a": { "command": "x" },\n    "a": { "command": "y" }\n  }\n}\n',
      {
        line: 4,
        key: 'mcpServers.a',
        detail: /duplicate key/,
      },
    );
  });

  test('broken JSON', () => {
    assertRejects('{\n  "mcpServers": {\n    "a": { "command": "x" }\n  \n}\n', {
      line: 6,
      key: '',
      detail: /invalid YAML\/JSON/,
    });
  });

  test('more than one YAML document', () => {
    assertRejects('servers: {}\n---\nservers: {}\n', {
      line: 2,
      key: '',
      detail: /more than one YAML document/,
    });
  });
});

describe('cross-field errors', () => {
  test('unknown routing.default names the value and the known targets', () => {
    assertRejects(
      'servers:\n  a: { command: x }\n  b: { url: "https://b/", group: pool }\nrouting:\n  default: c\n',
      {
        line: 5,
        key: 'routing.default',
        detail: /unknown target "c": no server or group has that name \(servers: a, b; groups: pool\)/,
      },
    );
  });

  test('unknown routing rule target', () => {
    const text = `servers:
  odoo-prod: { url: "https://p/" }
routing:
  rules:
    - when: { context: { finance-ssc: true } }
      target: odoo-prod
    - when: { context: { migration: true } }
      target: odoo-lab
`;
    assertRejects(text, { line: 8, key: 'routing.rules[1].target', detail: /unknown target "odoo-lab"/ });
  });

  test('a group named after a server outside it', () => {
    assertRejects('servers:\n  odoo: { url: "https://a/" }\n  lab: { url: "https://b/", group: odoo }\n', {
      line: 3,
      key: 'servers.lab.group',
      detail: /group "odoo" is also the id of server "odoo", which is not in it/,
    });
  });

  test('the coordinator prefix is reserved', () => {
    assertRejects('servers:\n  a: { command: x }\n  coordinator:\n    command: y\n', {
      line: 3,
      key: 'servers.coordinator',
      detail: /"coordinator" is reserved/,
    });
    assertRejects('servers:\n  a:\n    command: x\n    prefix: coordinator\n', {
      line: 4,
      key: 'servers.a.prefix',
      detail: /"coordinator" is reserved/,
    });
  });
});

describe('which error wins', () => {
  test('the first in document order, whatever its kind', () => {
    const unsetFirst = 'servers:\n  a:\n    command: ${NOT_SET}\n    colour: red\n';
    assertRejects(unsetFirst, { line: 3, key: 'servers.a.command', detail: /\$\{NOT_SET\} is not set/ });
    const unknownFirst = 'servers:\n  a:\n    colour: red\n    command: ${NOT_SET}\n';
    assertRejects(unknownFirst, { line: 3, key: 'servers.a.colour', detail: /unknown key "colour"/ });
  });

  test('between servers, the earlier one', () => {
    assertRejects('servers:\n  a: { command: x, startup: later }\n  b: { url: nope }\n', {
      line: 2,
      key: 'servers.a.startup',
      detail: /must be one of "eager", "lazy"/,
    });
  });

  test('schema errors come before cross-field errors', () => {
    assertRejects('servers:\n  a: { command: x }\nrouting:\n  default: nobody\n  colour: red\n', {
      line: 5,
      key: 'routing.colour',
      detail: /unknown key/,
    });
  });
});

describe('coordination.access errors name the key as written', () => {
  test('a rule of the list form with an unknown key', () => {
    assertRejects('servers: {}\ncoordination:\n  access:\n    - agent: "a*"\n      tool: { deny: [x] }\n', {
      line: 5,
      key: 'coordination.access[0].tool',
      detail: /unknown key "tool"/,
    });
  });

  test('an agent glob that is not a string', () => {
    assertRejects('servers: {}\ncoordination:\n  access:\n    - agent: 3\n', {
      line: 4,
      key: 'coordination.access[0].agent',
      detail: /must be a glob over agent ids/,
    });
  });

  test('the object form: default and a glob list', () => {
    assertRejects('servers: {}\ncoordination:\n  access:\n    default: maybe\n', {
      line: 4,
      key: 'coordination.access.default',
      detail: /must be one of "allow", "deny"/,
    });
    assertRejects(
      'servers: {}\ncoordination:\n  access:\n    rules:\n      - agent: a\n        files: { allow: "src/**" }\n',
      {
        line: 6,
        key: 'coordination.access.rules[0].files.allow',
        detail: /must be a list of file path globs/,
      },
    );
  });

  test('neither a list nor an object', () => {
    assertRejects('servers: {}\ncoordination:\n  access: yes\n', {
      line: 3,
      key: 'coordination.access',
      detail: /must be a list of rules, or \{ default: allow\|deny, rules: \[\.\.\.\] \}/,
    });
  });
});
