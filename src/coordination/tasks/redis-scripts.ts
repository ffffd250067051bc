/**
 * The Lua scripts of the Redis task store (see redis.ts for the layout). Each one is a whole
 * task operation — check, then write — so no other client can interleave and a refusal leaves
 * nothing behind. Times come from the Redis clock (LUA_CLOCK).
 *
 * Every key a script touches is declared in KEYS: the tasks hash first, then the lock keys of the
 * files it may read or write, which the caller gathers from a read of the task just before. That
 * is what lets a Redis Cluster refuse a script (ASK, then TRYAGAIN) while the slot is being
 * migrated and its keys are split between two nodes; with keys built inside the script, a claim
 * run on the importing node would see a lock still on the other node as free. A task whose files
 * changed since the read makes the script return {'stale'}, and the caller reads again.
 */
import { LUA_CLOCK, LuaScript } from '../locks/redis-store.js';

// The lock keys declared after the tasks hash; undeclared(files) names a file outside them.
const DECLARED_FN = `
local declared = {}
for i = 2, #KEYS do declared[KEYS[i]] = true end
local function undeclared(files, lockPrefix)
  if type(files) ~= 'table' then return false end
  for _, f in ipairs(files) do if not declared[lockPrefix .. f] then return true end end
  return false
end
`;

// KEYS: tasks hash, the lock key of every file of the task and of the files JSON.
// ARGV: taskId, agentId, ttlMs, lockPrefix, tokenBase, files JSON, lock reason.
// Returns {'task', taskJson} | {'dependency', id, status} | {'file', lockJson, file} | {'stale'}
//       | {'ok', taskJson, reclaimed, (file, lockJson, extended)*}.
export const CLAIM = new LuaScript(`${LUA_CLOCK}${DECLARED_FN}
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
if undeclared(all, lockPrefix) then return {'stale'} end
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
export const CREATE = new LuaScript(`${LUA_CLOCK}
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
export const LOG_STEP = new LuaScript(`${LUA_CLOCK}
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

// KEYS: tasks hash, the lock key of every file of the task.
// ARGV: taskId, agentId, status, lockPrefix, result JSON or ''.
export const FINISH = new LuaScript(`${LUA_CLOCK}${CLOSE_FN}${DECLARED_FN}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'not_found'} end
local task = cjson.decode(cur)
if task.status ~= 'claimed' then return {'not_claimed', cur} end
if task.agentId ~= ARGV[2] then return {'not_claimer', cur} end
if undeclared(task.files, ARGV[4]) then return {'stale'} end
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

// KEYS: tasks hash, the lock key of every file of the agent's claimed tasks. ARGV: agentId, lockPrefix.
// Returns the closed tasks one after another, or {'stale'} (nothing changed).
export const RELEASE_ALL = new LuaScript(`${LUA_CLOCK}${CLOSE_FN}${DECLARED_FN}
local entries = redis.call('HGETALL', KEYS[1])
local mine = {}
for i = 1, #entries, 2 do
  local task = cjson.decode(entries[i + 1])
  if task.status == 'claimed' and task.agentId == ARGV[1] then
    if undeclared(task.files, ARGV[2]) then return {'stale'} end
    mine[#mine + 1] = task
  end
end
local reply = {}
for _, task in ipairs(mine) do close(task, 'released', iso(now_ms), ARGV[2], '', reply) end
return reply
`);

// Put tasks back into an EMPTY tasks hash (Redis lost its data; the records come from
// PostgreSQL). Refuses (returns 0) when the hash holds anything: then Redis is the truth and
// nothing is overwritten, so two coordinators restoring at once restore once. A claimed task gets
// its file locks back for the claimer (a file someone locked meanwhile stays theirs).
// KEYS: tasks hash, then the lock key of each entry of the locks JSON, in order.
// ARGV: lockPrefix, ttlMs, tokenBase, lock reason prefix, n, (taskId, json)*n,
// locks JSON [[file, holder, taskId], …].
export const RESTORE = new LuaScript(`${LUA_CLOCK}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[5])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[1], ARGV[6 + i * 2], ARGV[7 + i * 2])
end
local now, expiresAt = iso(now_ms), iso(now_ms + tonumber(ARGV[2]))
for i, l in ipairs(cjson.decode(ARGV[6 + n * 2])) do
  local rec = {file = l[1], holder = l[2], reason = ARGV[4] .. l[3], taskId = l[3],
               token = ARGV[3] .. ':' .. i, acquiredAt = now, expiresAt = expiresAt}
  redis.call('SET', KEYS[1 + i], cjson.encode(rec), 'NX', 'PX', ARGV[2])
end
return n
`);
