/**
 * Access rules (`coordination.access`): per agent, which tools it may call, which files it may
 * lock or claim, which event types its actions may publish. The first rule whose `agent` glob
 * matches the agent id decides; a rule silent on a kind allows it; an agent no rule matches gets
 * the `default` (allow unless configured otherwise).
 *
 * Within a rule's list, `deny` wins over `allow`; an `allow` list (events: `publish`) admits only
 * what it names. Tool, agent and event globs: `*` matches any run of characters. File globs work
 * on the normalized path (relative to the workspace root): `*` and `?` stay within one segment,
 * `**` spans any number of segments.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { refused } from './tool-kit.js';
import type { EventBus } from './types.js';

export type AccessKind = 'tool' | 'file' | 'event';

/** The shape of `coordination.access` after the config schema normalized it. */
export interface AccessPolicy {
  default: 'allow' | 'deny';
  rules: AccessRule[];
}

export interface AccessRule {
  agent: string;
  tools?: { allow?: string[] | undefined; deny?: string[] | undefined } | undefined;
  files?: { allow?: string[] | undefined; deny?: string[] | undefined } | undefined;
  events?: { publish?: string[] | undefined; deny?: string[] | undefined } | undefined;
}

/** A refusal: what was refused, and by which rule (index -1: the `default`). */
export interface AccessDenial {
  agentId: string;
  kind: AccessKind;
  subject: string;
  rule: { index: number; agent: string };
  reason: string;
  /** One sentence naming the rule, for the caller. */
  message: string;
}

interface CompiledList {
  allow?: Array<(s: string) => boolean>;
  deny: Array<{ glob: string; matches: (s: string) => boolean }>;
  allowGlobs?: string[];
}

interface CompiledRule {
  index: number;
  agent: string;
  matchesAgent: (agentId: string) => boolean;
  lists: Partial<Record<AccessKind, CompiledList>>;
}

export class AccessControl {
  private readonly rules: CompiledRule[];
  private readonly fallback: 'allow' | 'deny';

  constructor(
    policy: AccessPolicy | undefined,
    private readonly bus?: EventBus,
  ) {
    this.fallback = policy?.default ?? 'allow';
    this.rules = (policy?.rules ?? []).map((rule, index) => compileRule(rule, index));
  }

  /** Whether any rule (or a deny default) is configured: without, every check is a no-op. */
  get active(): boolean {
    return this.rules.length > 0 || this.fallback === 'deny';
  }

  /** The first refusal among `subjects` of one kind, or undefined when all are allowed. */
  check(agentId: string, kind: AccessKind, subjects: readonly string[]): AccessDenial | undefined {
    if (!this.active || subjects.length === 0) return undefined;
    const rule = this.rules.find((r) => r.matchesAgent(agentId));
    for (const subject of subjects) {
      const denial = rule ? decide(rule, agentId, kind, subject) : this.byDefault(agentId, kind, subject);
      if (denial) return denial;
    }
    return undefined;
  }

  /** Check, and announce a refusal as `access:denied` (published as the refused agent). */
  enforce(agentId: string, kind: AccessKind, subjects: readonly string[]): AccessDenial | undefined {
    const denial = this.check(agentId, kind, subjects);
    if (denial) this.announce(denial);
    return denial;
  }

  announce(denial: AccessDenial): void {
    const { agentId, kind, subject, rule, reason } = denial;
    try {
      this.bus?.publish({ type: 'access:denied', agentId, data: { agentId, kind, subject, rule, reason } });
    } catch {
      // The refusal stands whether or not the bus took the event.
    }
  }

  private byDefault(agentId: string, kind: AccessKind, subject: string): AccessDenial | undefined {
    if (this.fallback === 'allow') return undefined;
    return denial(
      agentId,
      kind,
      subject,
      { index: -1, agent: '(default)' },
      'no rule matches the agent and the default is deny',
    );
  }
}

/** A refused call's result: `isError`, the sentence naming the rule, and the details. */
export function accessRefusal(denial: AccessDenial): CallToolResult {
  const { agentId, kind, subject, rule, reason, message } = denial;
  return refused({ denied: true, error: message, agentId, kind, subject, rule, reason });
}

const KIND_WORD: Record<AccessKind, string> = { tool: 'tool', file: 'file', event: 'event' };

function decide(
  rule: CompiledRule,
  agentId: string,
  kind: AccessKind,
  subject: string,
): AccessDenial | undefined {
  const list = rule.lists[kind];
  if (!list) return undefined;
  const where = { index: rule.index, agent: rule.agent };
  const denied = list.deny.find((d) => d.matches(subject));
  if (denied) return denial(agentId, kind, subject, where, `denied by "${denied.glob}"`);
  if (list.allow && !list.allow.some((m) => m(subject))) {
    const globs = (list.allowGlobs ?? []).map((g) => `"${g}"`).join(', ') || 'nothing';
    return denial(agentId, kind, subject, where, `not among the allowed (${globs})`);
  }
  return undefined;
}

function denial(
  agentId: string,
  kind: AccessKind,
  subject: string,
  rule: { index: number; agent: string },
  reason: string,
): AccessDenial {
  const named =
    rule.index < 0
      ? 'the default of coordination.access'
      : `coordination.access rule #${rule.index} (agent "${rule.agent}")`;
  return {
    agentId,
    kind,
    subject,
    rule,
    reason,
    message: `Access denied by ${named}: ${KIND_WORD[kind]} "${subject}" is ${reason} for agent "${agentId}".`,
  };
}

function compileRule(rule: AccessRule, index: number): CompiledRule {
  const lists: Partial<Record<AccessKind, CompiledList>> = {};
  if (rule.tools) lists.tool = compileList(rule.tools.allow, rule.tools.deny, compileWildcard);
  if (rule.files) lists.file = compileList(rule.files.allow, rule.files.deny, compilePathGlob);
  if (rule.events) lists.event = compileList(rule.events.publish, rule.events.deny, compileWildcard);
  return { index, agent: rule.agent, matchesAgent: compileWildcard(rule.agent), lists };
}

function compileList(
  allow: string[] | undefined,
  deny: string[] | undefined,
  compile: (glob: string) => (s: string) => boolean,
): CompiledList {
  return {
    ...(allow && { allow: allow.map(compile), allowGlobs: allow }),
    deny: (deny ?? []).map((glob) => ({ glob, matches: compile(glob) })),
  };
}

/**
 * A path glob: segments split at `/`; `**` matches zero or more whole segments, `*` any run within
 * one segment, `?` one character. Matched by dynamic programming over segments (no regular
 * expressions, so no backtracking blow-up whatever the glob).
 */
export function compilePathGlob(glob: string): (path: string) => boolean {
  // `dir/` means everything under dir; empty segments (`a//b`, a leading `./`) mean nothing.
  const parts = (glob.endsWith('/') ? `${glob}**` : glob).split('/').filter((p) => p !== '' && p !== '.');
  const segs = parts.map((p) => (p === '**' ? ('**' as const) : compileWildcard(p)));
  return (path) => {
    const names = path.split('/').filter((p) => p !== '');
    // reach[j]: the first i glob segments can match the first j path segments.
    let reach = new Array<boolean>(names.length + 1).fill(false);
    reach[0] = true;
    for (const seg of segs) {
      const next = new Array<boolean>(names.length + 1).fill(false);
      if (seg === '**') {
        let any = false;
        for (let j = 0; j <= names.length; j++) {
          any = any || reach[j]!;
          next[j] = any;
        }
      } else {
        for (let j = 0; j < names.length; j++) if (reach[j] && seg(names[j]!)) next[j + 1] = true;
      }
      reach = next;
    }
    return reach[names.length]!;
  };
}

/**
 * `*` any run of characters, `?` one, the rest literal: the classic two-pointer match that falls
 * back to the last star only, so its cost is bounded by pattern × subject length whatever the glob.
 */
export function compileWildcard(pattern: string): (subject: string) => boolean {
  const chars = [...pattern];
  if (!chars.includes('*') && !chars.includes('?')) return (subject) => subject === pattern;
  return (subject) => {
    const s = [...subject];
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (j < chars.length && chars[j] !== '*' && (chars[j] === '?' || chars[j] === s[i])) {
        i++;
        j++;
      } else if (j < chars.length && chars[j] === '*') {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else return false;
    }
    while (j < chars.length && chars[j] === '*') j++;
    return j === chars.length;
  };
}
