/**
 * Tasks in Redis. Layout: one hash `<prefix>tasks`, field = task id, value = the JSON TaskRecord
 * (one key to list with HGETALL, no SCAN). Completed and released tasks stay as history. Each
 * task's log is a capped stream `{<prefix>tasks}:log:<taskId>`: its hash tag is the name of the
 * tasks hash, so on a Cluster the log and the hash live in one slot and log_step (which checks
 * the task, appends to the log and counts the step) stays one script.
 *
 * A claim is one Lua script: it checks the task field and every lock key `<prefix>lock:<file>`,
 * and only when nothing conflicts does it write all the locks (`SET … PX`) and the task. So a
 * conflict leaves nothing behind, and no other client can interleave. The lock keys are built
 * inside the script from the lock prefix (the files of an earlier claim are only known there),
 * which is fine on one Redis node but not cluster-safe; the contract's layout is single-node.
 * Times come from the Redis clock, like the lock times (see LUA_CLOCK).
 */
import { randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import { LIMITS } from '../limits.js';
import { lockKeyPrefix, parseRecord } from '../locks/redis.js';
import { LUA_CLOCK, LuaScript, parseJson, storeCall } from '../locks/redis-store.js';
import type { LockRecord } from '../locks/types.js';
import {
  lockReasonFor,
  TASK_STATUSES,
  type ClaimResult,
  type CreateResult,
  type FinishResult,
  type LogStepResult,
  type TaskBackend,
  type TaskRecord,
  type TaskSpec,
  type TaskStatus,
  type TaskStep,
} from './types.js';

/** The log stream of one task, in the slot of the tasks hash `<prefix>tasks`. */
export function taskLogKey(prefix: string, taskId: string): string {
  return `{${prefix}tasks}:log:${taskId}`;
}

// ARGV: taskId, agentId, ttlMs, lockPrefix, tokenBase, files JSON, lock reason.
// Returns {'task', taskJson} | {'dependency', id, status} | {'file', lockJson, file}
//       | {'ok', taskJson, reclaimed, (file, lockJson, extended)*}.
const CLAIM = new LuaScript(`${LUA_CLOCK}
local taskId, agent, ttl, lockPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, expiresAt = iso(now_ms), iso(now_ms + tonumber(ARGV[3]))
local cur = redis.call('HGET', KEYS[1], taskId)
local task = cur and cjson.decode(cur)
local reclaimed = false
if task then
  if task.status == 'claimed' and task.agentId == agent then reclaimed = true
  elseif task.status ~= 'released' and task.status ~= 'open' then return {'task', cur} end
  if type(task.dependsOn) == 'table' then
    for _, d in ipairs(task.dependsOn) do
      local dep = redis.call('HGET', KEYS[1], d)
      local st = dep and cjson.decode(dep).status or 'missing'
      if st ~= 'completed' then return {'dependency', d, st} end
    end
  end
end
local all, seen = {}, {}
local function add(f) if not seen[f] then seen[f] = true; all[#all + 1] = f end end
if task and type(task.files) == 'table' then for _, f in ipairs(task.files) do add(f) end end
for _, f in ipairs(cjson.decode(ARGV[6])) do add(f) end
for _, f in ipairs(all) do
  local held = redis.call('GET', lockPrefix .. f)
  if held and cjson.decode(held).holder ~= agent then return {'file', held, f} end
end
local reply = {'ok', '', reclaimed and '1' or '0'}
for i, f in ipairs(all) do
  local key = lockPrefix .. f
  local held = redis.call('GET', key)
  local rec, extended
  if held then
    rec = cjson.decode(held); rec.expiresAt = expiresAt; extended = '1'
  else
    rec = {file = f, holder = agent, reason = ARGV[7], taskId = taskId, token = ARGV[5] .. ':' .. i,
           acquiredAt = now, expiresAt = expiresAt}
    extended = '0'
  end
  local out = cjson.encode(rec)
  redis.call('SET', key, out, 'PX', ttl)
  reply[#reply + 1] = f; reply[#reply + 1] = out; reply[#reply + 1] = extended
end
-- The board fields of a created task ride along (a released task has no result to mangle).
local rec = task or {taskId = taskId}
if not reclaimed then rec.claimedAt = now end
rec.status = 'claimed'; rec.agentId = agent; rec.files = all; rec.updatedAt = now
rec.completedAt = nil; rec.result = nil
reply[2] = cjson.encode(rec)
redis.call('HSET', KEYS[1], taskId, reply[2])
return reply
`);

// KEYS: tasks hash. ARGV: taskId, record JSON without its times, dependsOn JSON.
// Returns {'exists', taskJson} | {'unknown_dependency', id} | {'ok', taskJson}.
const CREATE = new LuaScript(`${LUA_CLOCK}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {'exists', cur} end
for _, d in ipairs(cjson.decode(ARGV[3])) do
  if redis.call('HEXISTS', KEYS[1], d) == 0 then return {'unknown_dependency', d} end
end
local now = iso(now_ms)
-- Spliced in as text: the caller's JSON is stored as it was written.
local out = string.sub(ARGV[2], 1, -2) .. ',"createdAt":"' .. now .. '","updatedAt":"' .. now .. '"}'
redis.call('HSET', KEYS[1], ARGV[1], out)
return {'ok', out}
`);

// KEYS: tasks hash, the task's log stream. ARGV: taskId, agentId, message, data JSON or '', steps kept.
// Returns {'ok', stepId, taskJson, at} | {'not_found'} | {'not_claimed' | 'not_claimer', taskJson}.
const LOG_STEP = new LuaScript(`${LUA_CLOCK}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'not_found'} end
local task = cjson.decode(cur)
if task.status ~= 'claimed' then return {'not_claimed', cur} end
if task.agentId ~= ARGV[2] then return {'not_claimer', cur} end
local at = iso(now_ms)
local id
if ARGV[4] == '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], '*', 'agentId', ARGV[2], 'message', ARGV[3], 'at', at)
else
  id = redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], '*', 'agentId', ARGV[2], 'message', ARGV[3], 'at', at, 'data', ARGV[4])
end
task.steps = (tonumber(task.steps) or 0) + 1
task.updatedAt = at
local out = cjson.encode(task)
redis.call('HSET', KEYS[1], ARGV[1], out)
return {'ok', id, out, at}
`);

// Shared by FINISH and RELEASE_ALL: close one task, appending taskJson, n, (file, lockJson)*n.
const CLOSE_FN = `
-- keep: files another claimed task of the same agent still needs (nil: none to keep).
local function close(task, status, now, lockPrefix, resultJson, reply, keep)
  local released = {}
  if type(task.files) == 'table' then
    for _, f in ipairs(task.files) do
      local held = redis.call('GET', lockPrefix .. f)
      if held and cjson.decode(held).holder == task.agentId and not (keep and keep[f]) then
        redis.call('DEL', lockPrefix .. f)
        released[#released + 1] = f; released[#released + 1] = held
      end
    end
  end
  task.status = status; task.updatedAt = now; task.result = nil
  if status == 'completed' then task.completedAt = now end
  local out = cjson.encode(task)
  -- Spliced in as text: a cjson round trip would turn [] into {} and mangle big numbers.
  if resultJson ~= '' then out = string.sub(out, 1, -2) .. ',"result":' .. resultJson .. '}' end
  redis.call('HSET', KEYS[1], task.taskId, out)
  reply[#reply + 1] = out; reply[#reply + 1] = #released / 2
  for _, v in ipairs(released) do reply[#reply + 1] = v end
end
`;

// ARGV: taskId, agentId, status, lockPrefix, result JSON or ''.
const FINISH = new LuaScript(`${LUA_CLOCK}${CLOSE_FN}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'not_found'} end
local task = cjson.decode(cur)
if task.status ~= 'claimed' then return {'not_claimed', cur} end
if task.agentId ~= ARGV[2] then return {'not_claimer', cur} end
local keep = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if entries[i] ~= task.taskId then
    local other = cjson.decode(entries[i + 1])
    if other.status == 'claimed' and other.agentId == task.agentId and type(other.files) == 'table' then
      for _, f in ipairs(other.files) do keep[f] = true end
    end
  end
end
local reply = {'ok'}
close(task, ARGV[3], iso(now_ms), ARGV[4], ARGV[5], reply, keep)
return reply
`);

// ARGV: agentId, lockPrefix.
const RELEASE_ALL = new LuaScript(`${LUA_CLOCK}${CLOSE_FN}
local entries = redis.call('HGETALL', KEYS[1])
local reply = {}
for i = 1, #entries, 2 do
  local task = cjson.decode(entries[i + 1])
  if task.status == 'claimed' and task.agentId == ARGV[1] then close(task, 'released', iso(now_ms), ARGV[2], '', reply) end
end
return reply
`);

export class RedisTaskBackend implements TaskBackend {
  private readonly tasksKey: string;
  private readonly lockPrefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly stepsKept: number = LIMITS.stepsKept,
  ) {
    this.tasksKey = `${prefix}tasks`;
    this.lockPrefix = lockKeyPrefix(prefix);
  }

  async create(spec: TaskSpec, agentId: string): Promise<CreateResult> {
    const record = { ...spec, status: 'open', agentId: '', createdBy: agentId };
    const args = [spec.taskId, JSON.stringify(record), JSON.stringify(spec.dependsOn)];
    const reply = (await storeCall(this.redis, () =>
      CREATE.run(this.redis, [this.tasksKey], args),
    )) as string[];
    const [kind, value = ''] = reply;
    if (kind === 'ok') return { ok: true, task: parseTask(value, spec.taskId) };
    if (kind === 'unknown_dependency') {
      return { ok: false, taskId: spec.taskId, reason: 'unknown_dependency', dependency: value };
    }
    const current = parseTask(value, spec.taskId);
    return {
      ok: false,
      taskId: spec.taskId,
      reason: 'exists',
      status: current.status,
      holder: current.agentId,
    };
  }

  async logStep(taskId: string, agentId: string, message: string, data: unknown): Promise<LogStepResult> {
    const dataJson = data === undefined ? '' : (JSON.stringify(data) ?? '');
    const keys = [this.tasksKey, taskLogKey(this.prefix, taskId)];
    const args = [taskId, agentId, message, dataJson, this.stepsKept];
    const reply = (await storeCall(this.redis, () => LOG_STEP.run(this.redis, keys, args))) as string[];
    const [kind, first = '', second = '', at = ''] = reply;
    if (kind === 'not_found') return { ok: false, taskId, reason: 'not_found' };
    if (kind !== 'ok') {
      const task = parseTask(first, taskId);
      const reason = kind === 'not_claimed' ? 'not_claimed' : 'not_claimer';
      return { ok: false, taskId, reason, holder: task.agentId, status: task.status };
    }
    const step: TaskStep = {
      id: first,
      taskId,
      agentId,
      message,
      ...(data !== undefined ? { data: parseJson(dataJson) } : {}),
      at,
    };
    return { ok: true, step, task: parseTask(second, taskId) };
  }

  async steps(taskId: string, limit: number): Promise<TaskStep[]> {
    if (limit <= 0) return [];
    const key = taskLogKey(this.prefix, taskId);
    const entries = await storeCall(this.redis, () => this.redis.xrevrange(key, '+', '-', 'COUNT', limit));
    return entries.reverse().map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        id,
        taskId,
        agentId: f.agentId ?? '',
        message: f.message ?? '',
        ...(f.data !== undefined ? { data: parseJson(f.data) } : {}),
        at: f.at ?? '',
      };
    });
  }

  async claim(taskId: string, agentId: string, files: string[], ttlMs: number): Promise<ClaimResult> {
    const args = [
      taskId,
      agentId,
      ttlMs,
      this.lockPrefix,
      randomUUID(),
      JSON.stringify(files),
      lockReasonFor(taskId),
    ];
    const reply = (await storeCall(this.redis, () =>
      CLAIM.run(this.redis, [this.tasksKey], args),
    )) as string[];
    const [kind, json = '', third = ''] = reply;
    if (kind === 'task') {
      const task = parseTask(json, taskId);
      return { ok: false, conflict: 'task', taskId, holder: task.agentId, status: task.status };
    }
    if (kind === 'dependency') {
      const status = TASK_STATUSES.includes(third as TaskStatus) ? (third as TaskStatus) : 'missing';
      return { ok: false, conflict: 'dependency', taskId, dependency: json, status };
    }
    if (kind === 'file') {
      const lock = parseRecord(json, third);
      return {
        ok: false,
        conflict: 'file',
        taskId,
        file: third,
        holder: lock.holder,
        ...(lock.reason !== undefined ? { reason: lock.reason } : {}),
        expiresAt: lock.expiresAt,
      };
    }
    const locks = [];
    for (let i = 3; i + 2 < reply.length; i += 3) {
      locks.push({ lock: parseRecord(reply[i + 1], reply[i]!), extended: reply[i + 2] === '1' });
    }
    return { ok: true, task: parseTask(json, taskId), locks, reclaimed: third === '1' };
  }

  async finish(
    taskId: string,
    agentId: string,
    status: 'completed' | 'released',
    result?: unknown,
  ): Promise<FinishResult> {
    const resultJson = status === 'completed' && result !== undefined ? (JSON.stringify(result) ?? '') : '';
    const args = [taskId, agentId, status, this.lockPrefix, resultJson];
    const reply = (await storeCall(this.redis, () =>
      FINISH.run(this.redis, [this.tasksKey], args),
    )) as unknown[];
    const kind = reply[0] as string;
    if (kind === 'ok') return { ok: true, ...readClosed(reply, 1, taskId).closed };
    if (kind === 'not_found') return { ok: false, taskId, reason: 'not_found' };
    const task = parseTask(reply[1] as string, taskId);
    return {
      ok: false,
      taskId,
      reason: kind === 'not_claimed' ? 'not_claimed' : 'not_claimer',
      holder: task.agentId,
      status: task.status,
    };
  }

  async releaseAllFor(agentId: string): Promise<Array<{ task: TaskRecord; releasedLocks: LockRecord[] }>> {
    const args = [agentId, this.lockPrefix];
    const reply = (await storeCall(this.redis, () =>
      RELEASE_ALL.run(this.redis, [this.tasksKey], args),
    )) as unknown[];
    const out = [];
    for (let at = 0; at < reply.length;) {
      const { closed, next } = readClosed(reply, at, '');
      out.push(closed);
      at = next;
    }
    return out;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const json = await storeCall(this.redis, () => this.redis.hget(this.tasksKey, taskId));
    return json === null ? undefined : parseTask(json, taskId);
  }

  async list(status?: TaskStatus): Promise<TaskRecord[]> {
    const all = await storeCall(this.redis, () => this.redis.hgetall(this.tasksKey));
    return Object.entries(all)
      .map(([taskId, json]) => parseTask(json, taskId))
      .filter((task) => status === undefined || task.status === status)
      .sort((a, b) => a.taskId.localeCompare(b.taskId));
  }
}

/** Reads `taskJson, n, (file, lockJson)*n` starting at `at`. */
function readClosed(reply: unknown[], at: number, taskId: string) {
  const task = parseTask(reply[at] as string, taskId);
  const count = Number(reply[at + 1]);
  const releasedLocks: LockRecord[] = [];
  for (let i = 0; i < count; i++) {
    const base = at + 2 + i * 2;
    releasedLocks.push(parseRecord(reply[base + 1] as string, reply[base] as string));
  }
  return { closed: { task, releasedLocks }, next: at + 2 + count * 2 };
}

/** Parse a stored task; cjson writes an empty array as `{}`, hence the normalizing. */
function parseTask(json: string, taskId: string): TaskRecord {
  const raw = parseJson<Record<string, unknown>>(json) ?? {};
  const status = TASK_STATUSES.includes(raw.status as TaskStatus) ? (raw.status as TaskStatus) : 'released';
  const text = (key: string) => (typeof raw[key] === 'string' ? { [key]: raw[key] as string } : {});
  const list = (key: string) => (Array.isArray(raw[key]) ? (raw[key] as unknown[]).map(String) : []);
  return {
    taskId: typeof raw.taskId === 'string' ? raw.taskId : taskId,
    status,
    agentId: String(raw.agentId ?? ''),
    files: list('files'),
    ...(typeof raw.claimedAt === 'string' && raw.claimedAt !== '' ? { claimedAt: raw.claimedAt } : {}),
    updatedAt: String(raw.updatedAt ?? ''),
    ...text('completedAt'),
    ...(raw.result !== undefined ? { result: raw.result } : {}),
    ...text('title'),
    ...text('description'),
    ...(raw.title !== undefined
      ? {
          capabilities: list('capabilities'),
          priority: typeof raw.priority === 'number' ? raw.priority : 0,
          dependsOn: list('dependsOn'),
        }
      : {}),
    ...text('createdAt'),
    ...text('createdBy'),
    ...(typeof raw.steps === 'number' ? { steps: raw.steps } : {}),
  };
}
