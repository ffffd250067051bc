/**
 * Pure routing: which servers may serve a call, in which order, and why.
 * explicit target → first matching context rule → routing.default → config order.
 */
import type { RoutingRule } from '../config/schema.js';
import { InvalidArgumentError } from '../shared/errors.js';

export interface RoutingPolicy {
  readonly rules: readonly RoutingRule[];
  readonly defaultTarget?: string;
  /** 'group': an explicit target that is down may fail over to the other members. */
  readonly failover: 'never' | 'group';
  /** group id → member server ids (config order). */
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

export interface RouteInput {
  /** Exposed name, for messages. */
  readonly name: string;
  /** Servers that offer the tool, config order. */
  readonly members: readonly string[];
  readonly target?: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

export interface RoutePlan {
  readonly candidates: readonly string[];
  readonly reason: string;
}

/** Does every key under `when.context` equal the call's context value? */
export function contextMatches(
  when: Readonly<Record<string, unknown>>,
  context: Readonly<Record<string, unknown>>,
): boolean {
  for (const [key, expected] of Object.entries(when)) {
    if (!(key in context) || !sameValue(expected, context[key])) return false;
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The servers a target (server id or group id) stands for, restricted to the members. */
function expand(target: string, members: readonly string[], groups: RoutingPolicy['groups']): string[] {
  const group = groups.get(target);
  if (group) return group.filter((id) => members.includes(id));
  return members.includes(target) ? [target] : [];
}

function withRest(first: readonly string[], members: readonly string[]): string[] {
  return [...first, ...members.filter((m) => !first.includes(m))];
}

export function resolveRoute(input: RouteInput, policy: RoutingPolicy): RoutePlan {
  const { members, target, context } = input;
  if (members.length === 0) throw new InvalidArgumentError(`No server offers ${input.name}`);

  if (target !== undefined) {
    const chosen = expand(target, members, policy.groups);
    if (chosen.length === 0) {
      throw new InvalidArgumentError(
        `Target "${target}" does not offer ${input.name}; it is offered by: ${members.join(', ')}`,
      );
    }
    const isGroup = policy.groups.has(target);
    const candidates =
      isGroup || policy.failover === 'group' ? withRest(chosen, isGroup ? chosen : members) : chosen;
    return { candidates, reason: `explicit target ${target}` };
  }

  if (context) {
    for (const [index, rule] of policy.rules.entries()) {
      if (!contextMatches(rule.when.context, context)) continue;
      const chosen = expand(rule.target, members, policy.groups);
      // A rule whose target does not offer this tool does not apply to this call.
      if (chosen.length === 0) continue;
      return { candidates: withRest(chosen, members), reason: rule.reason ?? `context rule #${index + 1}` };
    }
  }

  if (policy.defaultTarget !== undefined) {
    const chosen = expand(policy.defaultTarget, members, policy.groups);
    if (chosen.length > 0) return { candidates: withRest(chosen, members), reason: 'default' };
  }

  return { candidates: [...members], reason: members.length === 1 ? 'only server' : 'config order' };
}
