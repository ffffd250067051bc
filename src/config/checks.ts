/**
 * Checks across fields, after the schema passed: names that must refer to something.
 *
 * Choices:
 * - An empty `servers` map is valid: a coordinator with only its built-in tools still
 *   coordinates locks, tasks and events.
 * - A routing target (`routing.default`, `routing.rules[i].target`) names a server id or a
 *   group. A disabled server is still a valid target (disabling must not break the file).
 * - Server ids and group names share one namespace (both are routing targets and tool
 *   prefixes). A group may carry the id of a server only if that server is in the group
 *   (`odoo: { group: odoo }` next to `odoo-lab: { group: odoo }`): then the name means the
 *   group, which contains that server. A group named after a server outside it is an error.
 * - `coordinator` is reserved as a prefix (it would shadow the built-in `coordinator__`
 *   tools): a server whose effective prefix (prefix, else group, else id) is `coordinator`
 *   is an error.
 */
import type { Config } from './schema.js';
import type { Problem } from './source-map.js';

const RESERVED_PREFIX = 'coordinator';

export function checkConfig(config: Config): Problem[] {
  const problems: Problem[] = [];
  const servers = Object.entries(config.servers);
  const groups = new Set(servers.flatMap(([, server]) => (server.group ? [server.group] : [])));

  for (const [id, server] of servers) {
    const effective = server.prefix ?? server.group ?? id;
    if (effective === RESERVED_PREFIX) {
      const key = server.prefix !== undefined ? ['prefix'] : server.group !== undefined ? ['group'] : [];
      problems.push({
        path: ['servers', id, ...key],
        detail: `"${RESERVED_PREFIX}" is reserved for the built-in ${RESERVED_PREFIX}__ tools; set another prefix`,
      });
    }
    const namesake =
      server.group !== undefined && Object.hasOwn(config.servers, server.group)
        ? config.servers[server.group]
        : undefined;
    if (server.group !== undefined && server.group !== id && namesake && namesake.group !== server.group) {
      problems.push({
        path: ['servers', id, 'group'],
        detail:
          `group "${server.group}" is also the id of server "${server.group}", which is not in it; ` +
          `rename the group or give that server group: ${server.group}`,
      });
    }
  }

  const knownTargets = (): string => {
    const ids = servers.map(([id]) => id);
    const parts = [`servers: ${ids.join(', ') || '(none)'}`];
    if (groups.size > 0) parts.push(`groups: ${[...groups].join(', ')}`);
    return parts.join('; ');
  };
  const checkTarget = (target: string | undefined, path: Problem['path']): void => {
    if (target === undefined || Object.hasOwn(config.servers, target) || groups.has(target)) return;
    problems.push({
      path,
      detail: `unknown target "${target}": no server or group has that name (${knownTargets()})`,
    });
  };
  checkTarget(config.routing.default, ['routing', 'default']);
  config.routing.rules.forEach((rule, index) =>
    checkTarget(rule.target, ['routing', 'rules', index, 'target']),
  );

  return problems;
}
