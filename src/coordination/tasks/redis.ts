/**
 * Tasks in Redis. Layout: one hash `<prefix>tasks`, field = task id, value = the JSON TaskRecord
 * (one key to list with HGETALL, no SCAN). Completed and released tasks stay as history. Each
 * task's log is a capped stream `{<prefix>tasks}:log:<taskId>`: its hash tag is the name of the
 * tasks hash, so on a Cluster the log and the hash live in one slot and log_step (which checks
 * the task, appends to the log and counts the step) stays one script.
 *
 * find_tasks reads two indexes in the same slot, kept by the scripts that change tasks (see
 * INDEX_FN in redis-scripts.ts): the sorted set `{<prefix>tasks}:open` of the open and released
 * tasks, best first, and the hash `{<prefix>tasks}:claimed-files`, file → the agents whose
 * claimed tasks list it. One script walks the set until it has found enough.
 *
 * A claim is one Lua script: it checks the task field and every lock key `<prefix>lock:<file>`,
 * and only when nothing conflicts does it write all the locks (`SET … PX`) and the task. So a
 * conflict leaves nothing behind, and no other client can interleave. The script declares every
 * lock key it touches (the task's files are read just before; see redis-scripts.ts), so on a
 * Cluster whose slot is being migrated Redis refuses it (TRYAGAIN) rather than run it on a node
 * that has only some of the keys: the caller gets CoordinationUnavailableError, never a grant
 * over a lock left on the other node. Times come from the Redis clock, like the lock times (see
 * LUA_CLOCK).
 */
import { randomUUID } from 'node:crypto';

import type { RedisClient } from '../redis-connect.js';

import { assertTaskFiles, LIMITS } from '../limits.js';
import { lockKeyPrefix, parseRecord } from '../locks/redis.js';
import { parseJson, storeCall } from '../locks/redis-store.js';
import { CoordinationUnavailableError } from '../../shared/errors.js';
import type { LockRecord } from '../locks/types.js';
import { CLAIM, CREATE, FIND, FINISH, LOG_STEP, RELEASE_ALL, RESTORE } from './redis-scripts.js';
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
import { byTaskId } from './board.js';

/**
 * The log stream of one task, in the slot of the tasks hash `<prefix>tasks`: tagged with it, or,
 * when the prefix carries a hash tag already (a Cluster), under that tag like every other key.
 */
export function taskLogKey(prefix: string, taskId: string): string {
  return tasksSlotKey(prefix, `log:${taskId}`);
}

/** `{<prefix>tasks}:<name>`, or `<prefix>tasks:<name>` when the prefix has a hash tag already. */
export function tasksSlotKey(prefix: string, name: string): string {
  if (/\{[^}]+\}/.test(prefix)) return `${prefix}tasks:${name}`;
  return `{${prefix}tasks}:${name}`;
}

/** Reads of the task before a script that found its files changed meanwhile ({'stale'}). */
const STALE_ATTEMPTS = 3;

export class RedisTaskBackend implements TaskBackend {
  private readonly tasksKey: string;
  private readonly lockPrefix: string;
  /** The tasks hash and the find indexes: the KEYS of every script that changes a task. */
  private readonly keys: string[];

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly stepsKept: number = LIMITS.stepsKept,
  ) {
    this.tasksKey = `${prefix}tasks`;
    this.lockPrefix = lockKeyPrefix(prefix);
    this.keys = [this.tasksKey, tasksSlotKey(prefix, 'open'), tasksSlotKey(prefix, 'claimed-files')];
  }

  async create(spec: TaskSpec, agentId: string): Promise<CreateResult> {
    const record = { ...spec, status: 'open', agentId: '', createdBy: agentId };
    const args = [spec.taskId, JSON.stringify(record), JSON.stringify(spec.dependsOn)];
    const reply = (await storeCall(this.redis, () => CREATE.run(this.redis, this.keys, args))) as string[];
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

  async logStep(
    taskId: string,
    agentId: string,
    message: string,
    data: unknown,
    owner?: string,
  ): Promise<LogStepResult> {
    const dataJson = data === undefined ? '' : (JSON.stringify(data) ?? '');
    const keys = [this.tasksKey, taskLogKey(this.prefix, taskId)];
    const args = [taskId, agentId, message, dataJson, this.stepsKept, owner ?? ''];
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

  async claim(
    taskId: string,
    agentId: string,
    files: string[],
    ttlMs: number,
    owner?: string,
  ): Promise<ClaimResult> {
    const args = [
      taskId,
      agentId,
      ttlMs,
      this.lockPrefix,
      randomUUID(),
      JSON.stringify(files),
      lockReasonFor(taskId),
      owner ?? '',
    ];
    const reply = (await this.withLockKeys(
      taskId,
      async () => {
        const all = [...new Set([...(await this.filesOf(taskId)), ...files])];
        assertTaskFiles(taskId, all.length);
        return all;
      },
      (keys) => CLAIM.run(this.redis, keys, args),
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
    owner?: string,
  ): Promise<FinishResult> {
    const resultJson = status === 'completed' && result !== undefined ? (JSON.stringify(result) ?? '') : '';
    const args = [taskId, agentId, status, this.lockPrefix, resultJson, owner ?? ''];
    const reply = await this.withLockKeys(
      taskId,
      () => this.filesOf(taskId),
      (keys) => FINISH.run(this.redis, keys, args),
    );
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

  async releaseAllFor(
    agentId: string,
    owner?: string,
  ): Promise<Array<{ task: TaskRecord; releasedLocks: LockRecord[] }>> {
    const args = [agentId, this.lockPrefix, owner ?? ''];
    // Every claimed task of the agent (a superset of one session's): declaring more keys is harmless.
    const reply = await this.withLockKeys(
      `of ${agentId}`,
      async () => {
        const all = await this.redis.hgetall(this.tasksKey);
        return Object.entries(all)
          .map(([taskId, json]) => parseTask(json, taskId))
          .filter((task) => task.status === 'claimed' && task.agentId === agentId)
          .flatMap((task) => task.files);
      },
      (keys) => RELEASE_ALL.run(this.redis, keys, args),
    );
    const out = [];
    for (let at = 0; at < reply.length;) {
      const { closed, next } = readClosed(reply, at, '');
      out.push(closed);
      at = next;
    }
    return out;
  }

  async isEmpty(): Promise<boolean> {
    return (await storeCall(this.redis, () => this.redis.exists(this.tasksKey))) === 0;
  }

  async restore(tasks: TaskRecord[], ttlMs: number): Promise<number> {
    if (tasks.length === 0) return 0;
    const pairs = tasks.flatMap((task) => [task.taskId, JSON.stringify(task)]);
    const locks = tasks
      .filter((task) => task.status === 'claimed' && task.agentId !== '')
      .flatMap((task) =>
        task.files.map((file) => [file, task.agentId, task.taskId, ...(task.owner ? [task.owner] : [])]),
      );
    const args = [this.lockPrefix, ttlMs, randomUUID(), lockReasonFor(''), tasks.length, ...pairs];
    args.push(JSON.stringify(locks));
    const keys = [...this.keys, ...locks.map(([file]) => this.lockPrefix + file!)];
    const reply = await storeCall(this.redis, () => RESTORE.run(this.redis, keys, args));
    return Number(reply);
  }

  async find(
    agentId: string,
    capabilities: readonly string[],
    limit: number,
    owner?: string,
  ): Promise<TaskRecord[]> {
    if (limit <= 0) return [];
    const args = [agentId, this.lockPrefix, JSON.stringify(capabilities), limit, owner ?? ''];
    const reply = (await storeCall(this.redis, () => FIND.run(this.redis, this.keys, args))) as string[];
    return reply.map((json) => parseTask(json, ''));
  }

  /** The files of a task as stored now ([] when there is no such task). */
  private async filesOf(taskId: string): Promise<string[]> {
    const json = await this.redis.hget(this.tasksKey, taskId);
    return json === null ? [] : parseTask(json, taskId).files;
  }

  /**
   * Runs a script with the task keys (tasks hash, open index, claimed files) and the lock keys of
   * `files()` declared, reading the files again when the script says they changed in between
   * (bounded: a task rewritten on every try is reported, not chased).
   */
  private async withLockKeys(
    what: string,
    files: () => Promise<string[]>,
    script: (keys: string[]) => Promise<unknown>,
  ): Promise<unknown[]> {
    for (let attempt = 1; ; attempt++) {
      const reply = (await storeCall(this.redis, async () => {
        const keys = [...new Set(await files())].map((file) => this.lockPrefix + file);
        return script([...this.keys, ...keys]);
      })) as unknown[];
      if (reply[0] !== 'stale') return reply;
      if (attempt >= STALE_ATTEMPTS) {
        throw new CoordinationUnavailableError(`task ${what} kept changing during the call; try again`);
      }
    }
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
      .sort(byTaskId);
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
    ...(typeof raw.owner === 'string' && raw.owner !== '' ? { owner: raw.owner } : {}),
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
