/**
 * The zod schema of servers.yml: the single source of truth. Types are `z.infer`red from it,
 * never written twice. Unknown keys are errors (strict objects) so a typo never goes unnoticed.
 *
 * Custom messages are written as the tail of a sentence ("must …") because the loader prints
 * them after the key path: `servers.yml:4: servers.memory.prefix: must hold only …`.
 */
import { z } from 'zod';
import { hasUserinfo } from '../shared/redact.js';
import { closest } from './suggest.js';

/** A server id; its namespace (tool prefix) keeps [A-Za-z0-9_-], `.` becoming `-`. */
export const SERVER_ID = /^[A-Za-z0-9_.-]+$/;
/** A group name is a namespace as it is. */
const GROUP_NAME = /^[A-Za-z0-9_-]+$/;

/** Node's timers hold 32-bit signed milliseconds: a longer delay silently becomes 1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A positive duration in ms that a timer can hold. */
const duration = () =>
  z
    .number()
    .int()
    .positive()
    .max(MAX_DURATION_MS, {
      error: `must be at most ${MAX_DURATION_MS} ms (about 24.8 days): longer delays overflow Node's timers`,
    });

/** A custom message for a value of the wrong type only (unknown keys keep zod's own message). */
const typeOnly = (message: string) => (issue: { code?: string }) =>
  issue.code === 'invalid_type' ? message : undefined;

/** Globs of `coordination.access`: `*` any run, `?` one character; file globs also `**`. */
const globList = (what: string) =>
  z
    .array(
      z
        .string({ error: typeOnly(`must be a list of ${what} globs (strings)`) })
        .min(1, { error: 'must not be empty' })
        .max(512),
      { error: typeOnly(`must be a list of ${what} globs`) },
    )
    .max(1_000);

const allowDeny = (what: string) =>
  z.strictObject(
    { allow: globList(what).optional(), deny: globList(what).optional() },
    { error: typeOnly(`must be { allow?: [${what} globs], deny?: [${what} globs] }`) },
  );

const accessRule = z.strictObject(
  {
    /** Glob over the agent id; the first rule that matches an agent decides for it. */
    agent: z
      .string({ error: typeOnly('must be a glob over agent ids (a string), e.g. "reviewer-*"') })
      .min(1)
      .max(512),
    tools: allowDeny('tool name').optional(),
    files: allowDeny('file path').optional(),
    events: z
      .strictObject(
        { publish: globList('event type').optional(), deny: globList('event type').optional() },
        { error: typeOnly('must be { publish?: [event type globs], deny?: [event type globs] }') },
      )
      .optional(),
  },
  { error: typeOnly('must be a rule { agent, tools?, files?, events? }') },
);

const accessRules = z.array(accessRule, { error: typeOnly('must be a list of rules') }).max(1_000);
const accessObject = z.strictObject(
  {
    default: z.enum(['allow', 'deny'], { error: 'must be "allow" or "deny"' }).default('allow'),
    rules: accessRules.default([]),
  },
  { error: typeOnly('must be a list of rules, or { default: allow|deny, rules: [...] }') },
);

/**
 * `coordination.access`: a list of rules (the default stays allow), or `{ default, rules }`.
 * The first rule whose `agent` matches decides; an agent no rule matches gets `default`. Each
 * form is checked by its own schema so an error's path is the one the user wrote.
 */
const accessSchema = z.unknown().transform((value, ctx): z.infer<typeof accessObject> => {
  const parsed = Array.isArray(value) ? accessRules.safeParse(value) : accessObject.safeParse(value ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: value } as never);
    return z.NEVER;
  }
  return Array.isArray(parsed.data) ? { default: 'allow', rules: parsed.data } : parsed.data;
});

/** `redis://` or `rediss://` (TLS), or "" for the embedded bus. */
const redisUrlString = z.string().refine(
  (value) => {
    if (value === '') return true;
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'must be a redis:// or rediss:// URL (or empty for the embedded in-process bus)' },
);

/** `postgres://` or `postgresql://`, or "" for no durable record. */
const postgresUrl = z.string().refine(
  (value) => {
    if (value === '') return true;
    try {
      const url = new URL(value);
      return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
    } catch {
      return false;
    }
  },
  { error: 'must be a postgres:// or postgresql:// URL (or empty for no durable record)' },
);

/** `host:port`, or a redis:// / rediss:// URL (credentials in its userinfo). */
const redisNode = (what: string) =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value.includes('://') ? value : `redis://${value}`);
        return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: `must be ${what}` },
  );

const redisCluster = z.strictObject({
  cluster: z
    .array(redisNode('a redis://host:port or rediss://host:port URL of a cluster node'))
    .min(1, { error: 'must list at least one cluster node (redis://host:port)' }),
});

const redisSentinel = z.strictObject({
  sentinels: z
    .array(redisNode('a sentinel as host:port (or redis://[:password@]host:port)'))
    .min(1, { error: 'must list at least one sentinel (host:port)' }),
  name: z.string({ error: 'must name the master group the sentinels monitor (e.g. mymaster)' }).min(1, {
    error: 'must name the master group the sentinels monitor (e.g. mymaster)',
  }),
  password: z.string().optional(),
});

/**
 * `coordination.redis`: a URL (one node), `{ cluster: [urls] }`, or `{ sentinels, name }`. Parsed
 * by shape first so an error names the key that is wrong, not three union branches.
 */
const redisTarget = z
  .unknown()
  .optional()
  .transform((value, ctx): string | z.infer<typeof redisCluster> | z.infer<typeof redisSentinel> => {
    const shape =
      value === undefined || typeof value === 'string'
        ? redisUrlString.default('')
        : typeof value === 'object' && value !== null && 'cluster' in value
          ? redisCluster
          : typeof value === 'object' && value !== null && 'sentinels' in value
            ? redisSentinel
            : undefined;
    if (!shape) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'must be a redis:// or rediss:// URL, { cluster: ["redis://host:port", ...] } or ' +
          '{ sentinels: ["host:port", ...], name: "mymaster" }',
      });
      return z.NEVER;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: value } as never);
      return z.NEVER;
    }
    return parsed.data;
  });

const toolFilter = z.strictObject({
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
});

const cacheSpec = z.strictObject({
  ttlMs: duration(),
  tools: z.array(z.string().min(1)).min(1),
});

/** Keys every server may carry, whatever its transport. */
const common = {
  /** "" exposes names unprefixed; defaults to the server id (or the group for replicas). */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'must hold only A-Z a-z 0-9 _ - (or be "" for no prefix)')
    .optional(),
  group: z.string().regex(GROUP_NAME, 'must match [A-Za-z0-9_-]+').optional(),
  enabled: z.boolean().default(true),
  tools: toolFilter.optional(),
  /** Per call. */
  timeoutMs: duration().default(60_000),
  /** Start-up: spawn or connect, era probe, initialize and the first catalog drain. */
  connectTimeoutMs: duration().default(30_000),
  startup: z.enum(['eager', 'lazy']).default('eager'),
  /** The server's MCP era: probed (`auto`), or pinned. */
  protocol: z.enum(['auto', 'legacy', 'modern']).default('auto'),
  cache: cacheSpec.optional(),
};

export const stdioServerSchema = z.strictObject({
  ...common,
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /**
   * What the child inherits from the coordinator's environment beyond the minimal set (PATH,
   * HOME, locale, temp dirs …): variable names (`NAME*` for a family), or `all`.
   */
  inheritEnv: z
    .union([z.literal('all'), z.array(z.string().regex(/^[^=\s]+$/, 'must be variable names'))], {
      error: 'must be "all" or a list of variable names',
    })
    .optional(),
  cwd: z.string().optional(),
});

export const remoteServerSchema = z.strictObject({
  ...common,
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((url) => !hasUserinfo(url), {
      error:
        'must not carry credentials (user:password@): they would be logged and shared; ' +
        'send them as a header instead, e.g. headers: { Authorization: "Bearer ${TOKEN}" }',
    }),
  transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
  headers: z.record(z.string(), z.string()).default({}),
});

type StdioOutput = z.output<typeof stdioServerSchema>;
type RemoteOutput = z.output<typeof remoteServerSchema>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A server is stdio when it has `command`, remote when it has `url`. The branch is chosen by
 * that key instead of a plain `z.union`, whose error ("no union member matched") lists the
 * complaints of both branches; here an unknown key or a bad field is reported against the
 * kind of server the user actually wrote.
 */
export const serverSchema = z.unknown().transform((input, ctx): StdioOutput | RemoteOutput => {
  if (!isPlainObject(input)) {
    ctx.addIssue({ code: 'custom', message: 'must be a map with command (stdio) or url (remote)' });
    return z.NEVER;
  }
  const hasCommand = input['command'] !== undefined;
  const hasUrl = input['url'] !== undefined;
  if (hasCommand && hasUrl) {
    ctx.addIssue({
      code: 'custom',
      message: 'has both command and url: a server is either stdio (command) or remote (url), not both',
    });
    return z.NEVER;
  }
  if (!hasCommand && !hasUrl) {
    const typo = Object.keys(input)
      .map((key) => ({ key, meant: closest(key, ['command', 'url']) }))
      .find((guess) => guess.meant !== undefined);
    const hint = typo ? ` (is "${typo.key}" a typo for "${typo.meant}"?)` : '';
    ctx.addIssue({ code: 'custom', message: `needs either command (stdio) or url (remote)${hint}` });
    return z.NEVER;
  }
  const result = (hasCommand ? stdioServerSchema : remoteServerSchema).safeParse(input);
  if (result.success) return result.data;
  // Re-raise the branch's issues; zod prefixes their paths with this server's path.
  for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: undefined });
  return z.NEVER;
});

const ruleSchema = z.strictObject({
  when: z.strictObject({
    context: z.record(z.string(), z.unknown(), { error: 'must be a map of context keys to values' }),
  }),
  target: z.string().min(1),
  reason: z.string().optional(),
});

/** `HOST:PORT`, `:PORT` or `PORT`; an IPv6 host in brackets (`[::1]:8766`). */
export const LISTEN = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)?:)?(\d{1,5})$/;

const apiKey = z
  .strictObject({
    /** Who the key is (logs, metrics, rate limit); the agent id unless `agent` is given. */
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . @ -'),
    /** The key itself (use ${ENV} for it), or… */
    key: z.string().min(16, 'must be at least 16 characters (use a random key)').optional(),
    /** …its SHA-256: `sha256:<64 hex>` (`printf %s KEY | sha256sum`). */
    keyHash: z
      .string()
      .regex(/^sha256:[0-9a-fA-F]{64}$/, 'must be sha256: followed by 64 hex digits')
      .optional(),
    scopes: z
      .array(z.enum(['read', 'call', 'admin']))
      .min(1)
      .default(['read', 'call']),
    /** The agent id this key acts as (default: the name). */
    agent: z.string().min(1).max(128).optional(),
  })
  .refine((k) => (k.key === undefined) !== (k.keyHash === undefined), {
    error: 'needs exactly one of key or keyHash',
  });

const httpSchema = z.strictObject({
  /** Set: `serve` serves HTTP here instead of stdio (as `--http` does). */
  listen: z
    .preprocess(
      (v) => (typeof v === 'number' ? String(v) : v),
      z.string().regex(LISTEN, 'must be HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8766)'),
    )
    .optional(),
  /** Host header values accepted (DNS rebinding); default: the loopback names for a loopback bind. */
  allowedHosts: z.array(z.string().min(1)).optional(),
  /** Browser origins accepted besides the coordinator's own. */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  auth: z
    .strictObject({
      keys: z.array(apiKey).default([]),
      oauth: z
        .strictObject({
          issuer: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
          audience: z.string().min(1),
          /** Default: the issuer's metadata (`jwks_uri`), else `<issuer>/.well-known/jwks.json`. */
          jwksUri: z.url({ protocol: /^https?$/ }).optional(),
        })
        .optional(),
    })
    .optional(),
  /** Requests per minute per key (or per address without auth); 0 turns the limit off. */
  rateLimitPerMinute: z.number().int().min(0).default(600),
  /** The largest request body accepted (413 beyond). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** Legacy (Mcp-Session-Id) sessions at once, and how long an idle one lives. */
  maxSessions: z.number().int().positive().default(1_000),
  sessionIdleMs: duration().default(30 * 60_000),
  /** How long shutdown waits for in-flight calls. */
  shutdownGraceMs: duration().default(10_000),
  metrics: z.strictObject({ open: z.boolean().default(false) }).prefault({}),
});

export const configSchema = z.strictObject({
  servers: z.record(z.string().regex(SERVER_ID, 'server id must match [A-Za-z0-9_.-]+'), serverSchema),
  namespace: z
    .strictObject({
      separator: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'must be non-empty and hold only A-Z a-z 0-9 _ -')
        .default('__'),
      maxNameLength: z.number().int().min(16).max(128).default(64),
    })
    .prefault({}),
  routing: z
    .strictObject({
      /** "" (e.g. from `${DEFAULT_TARGET:-}`) means no default, like an absent key. */
      default: z
        .string()
        .optional()
        .transform((target) => target || undefined),
      rules: z.array(ruleSchema).default([]),
      /** Whether an explicit target that is down may fail over to another member of its group. */
      failover: z.enum(['never', 'group']).default('never'),
    })
    .prefault({}),
  health: z
    .strictObject({
      intervalMs: duration().default(5_000),
      timeoutMs: duration().default(2_000),
      /** Consecutive failures that open the circuit breaker. */
      failureThreshold: z.number().int().positive().default(3),
      /** How long an open breaker skips a server before probing it again. */
      cooldownMs: duration().default(10_000),
    })
    .prefault({}),
  coordination: z
    .strictObject({
      /** A URL, { cluster }, { sentinels, name }; empty or absent: the embedded in-process bus. */
      redis: redisTarget,
      /** The durable record of events and tasks; empty or absent: none. */
      postgres: postgresUrl.default(''),
      prefix: z.string().default('mcp:'),
      lockTtlMs: duration().default(60_000),
      /** HMAC-SHA256 signing of events when set. */
      secret: z.string().optional(),
      /** Root that lock paths are made relative to; defaults to the config file's folder. */
      workspaceRoot: z.string().optional(),
      agentTtlMs: duration().default(30_000),
      streamMaxLen: z.number().int().positive().default(10_000),
      /** Who may call which tools, lock which files, publish which events (see accessSchema). */
      access: accessSchema.optional(),
    })
    .prefault({}),
  /** The HTTP face (`serve --http`); absent keys take the defaults below. */
  http: httpSchema.prefault({}),
  /** Where the warm catalog is cached on disk; defaults next to the config. "" disables it. */
  cacheDir: z.string().optional(),
  /**
   * On a cold start, how long the first lists may wait for eager servers still starting (0: never
   * wait; slower servers arrive through list_changed either way).
   */
  startupWaitMs: z.number().int().min(0).max(MAX_DURATION_MS).default(3_000),
});

export type Config = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type StdioServerConfig = z.infer<typeof stdioServerSchema>;
export type RemoteServerConfig = z.infer<typeof remoteServerSchema>;
export type RoutingRule = z.infer<typeof ruleSchema>;

export function isStdio(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}
