/**
 * The Lua scripts of the Redis task store (see redis.ts for the layout). Each one is a whole
 * task operation — check, then write — so no other client can interleave and a refusal leaves
 * nothing behind. Times come from the Redis clock (LUA_CLOCK).
 *
 * Every key a script touches is declared in KEYS: the tasks hash and the find index's two keys
 * first, then the lock keys of the files it may read or write, which the caller gathers from a read of the task just before. That
 * is what lets a Redis Cluster refuse a script (ASK, then TRYAGAIN) while the slot is being
 * migrated and its keys are split between two nodes; with keys built inside the script, a claim
 * run on the importing node would see a lock still on the other node as free. A task whose files
 * changed since the read makes the script return {'stale'}, and the caller reads again. FIND is
 * the exception: it reads the locks of the tasks it walks, which cannot be known before; during a
 * migration it may be refused ("non local key", reported as the slot being migrated) or, on the
 * importing node, see a lock still on the other node as free — a hint only: the claim that
 * follows declares its keys and is refused or sees the truth.
 */
import { LUA_CLOCK, LUA_HELD_BY, LuaScript } from '../locks/redis-store.js';

/**
 * The find index, kept by every script that changes a task's status or files. KEYS[1] the tasks
 * hash, KEYS[2] the sorted set of open and released tasks (score -priority, member
 * `<since>|<taskId>`, so ZRANGE reads them best first: priority, then age, then id; plus the
 * member '' at +inf, which says the set is complete), KEYS[3] the hash file → JSON
 * `{agentId: n}` of the claimed tasks listing the file. A store written before the index existed
 * (no '' member) gets it built from the tasks hash once, by the first script that needs it.
 */
const INDEX_FN = `
local function rank_of(id, t)
  local since = t.createdAt
  if type(since) ~= 'string' then
    if type(t.claimedAt) == 'string' and t.claimedAt ~= '' then since = t.claimedAt
    elseif type(t.updatedAt) == 'string' then since = t.updatedAt
    else since = '' end
  end
  local p = 0
  if t.title ~= nil and type(t.priority) == 'number' then p = t.priority end
  return tostring(0 - p), since .. '|' .. id
end
local function index(id, t, delta)
  if t.status == 'open' or t.status == 'released' then
    local score, member = rank_of(id, t)
    if delta > 0 then redis.call('ZADD', KEYS[2], score, member) else redis.call('ZREM', KEYS[2], member) end
  elseif t.status == 'claimed' and type(t.files) == 'table' then
    local agent = tostring(t.agentId)
    for _, f in ipairs(t.files) do
      local held = redis.call('HGET', KEYS[3], f)
      local by = held and cjson.decode(held) or {}
      local n = (tonumber(by[agent]) or 0) + delta
      if n > 0 then by[agent] = n else by[agent] = nil end
      if next(by) == nil then redis.call('HDEL', KEYS[3], f)
      else redis.call('HSET', KEYS[3], f, cjson.encode(by)) end
    end
  end
end
local function rebuild_index()
  redis.call('DEL', KEYS[2], KEYS[3])
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do index(entries[i], cjson.decode(entries[i + 1]), 1) end
  redis.call('ZADD', KEYS[2], '+inf', '')
end
local function ensure_index()
  if not redis.call('ZSCORE', KEYS[2], '') then rebuild_index() end
end
`;

// The lock keys declared after the three keys every task script has (tasks hash, open index,
// claimed files); undeclared(files) names a file outside them.
const DECLARED_FN = `
local declared = {}
for i = 4, #KEYS do declared[KEYS[i]] = true end
local function undeclared(files, lockPrefix)
  if type(files) ~= 'table' then return false end
  for _, f in ipairs(files) do if not declared[lockPrefix .. f] then return true end end
  return false
end
`;

// KEYS: tasks hash, open index, claimed files, the lock key of every file of the task and of the
// files JSON. ARGV: taskId, agentId, ttlMs, lockPrefix, tokenBase, files JSON, lock reason, owner
// ('' none).
// Returns {'task', taskJson} | {'dependency', id, status} | {'file', lockJson, file} | {'stale'}
//       | {'ok', taskJson, reclaimed, (file, lockJson, extended)*}.
export const CLAIM = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}${INDEX_FN}${DECLARED_FN}
local taskId, agent, ttl, lockPrefix, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local now, expiresAt = iso(now_ms), iso(now_ms + tonumber(ARGV[3]))
local cur = redis.call('HGET', KEYS[1], taskId)
local task = cur and cjson.decode(cur)
local reclaimed = false
if task then
  if task.status == 'claimed' and held_by(task.agentId, task.owner, agent, owner) then reclaimed = true
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
  if held then
    local lock = cjson.decode(held)
    if not held_by(lock.holder, lock.owner, agent, owner) then return {'file', held, f} end
  end
end
ensure_index()
if task then index(taskId, task, -1) end
local reply = {'ok', '', reclaimed and '1' or '0'}
for i, f in ipairs(all) do
  local key = lockPrefix .. f
  local held = redis.call('GET', key)
  local rec, extended
  if held then
    rec = cjson.decode(held); rec.expiresAt = expiresAt; extended = '1'
    -- An owner-less lock of the agent (taken over HTTP, or before owners) becomes this session's,
    -- as the task does: another session leaving must not free a file this claim needs.
    if owner ~= '' and (rec.owner == nil or rec.owner == cjson.null or rec.owner == '') then rec.owner = owner end
  else
    rec = {file = f, holder = agent, reason = ARGV[7], taskId = taskId, token = ARGV[5] .. ':' .. i,
           acquiredAt = now, expiresAt = expiresAt}
    if owner ~= '' then rec.owner = owner end
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
-- A session reclaiming an owner-less claim of its agent takes it over; an agent-level caller
-- reclaiming keeps the session's.
if owner ~= '' then rec.owner = owner elseif not reclaimed then rec.owner = nil end
rec.completedAt = nil; rec.result = nil
reply[2] = cjson.encode(rec)
redis.call('HSET', KEYS[1], taskId, reply[2])
index(taskId, rec, 1)
return reply
`);

// KEYS: tasks hash, open index, claimed files. ARGV: taskId, record JSON without its times,
// dependsOn JSON. Returns {'exists', taskJson} | {'unknown_dependency', id} | {'ok', taskJson}.
export const CREATE = new LuaScript(`${LUA_CLOCK}${INDEX_FN}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {'exists', cur} end
for _, d in ipairs(cjson.decode(ARGV[3])) do
  if redis.call('HEXISTS', KEYS[1], d) == 0 then return {'unknown_dependency', d} end
end
local now = iso(now_ms)
-- Spliced in as text: the caller's JSON is stored as it was written.
local out = string.sub(ARGV[2], 1, -2) .. ',"createdAt":"' .. now .. '","updatedAt":"' .. now .. '"}'
ensure_index()
redis.call('HSET', KEYS[1], ARGV[1], out)
index(ARGV[1], cjson.decode(out), 1)
return {'ok', out}
`);

// KEYS: tasks hash, the task's log stream. ARGV: taskId, agentId, message, data JSON or '', steps
// kept, owner ('' none).
// Returns {'ok', stepId, taskJson, at} | {'not_found'} | {'not_claimed' | 'not_claimer', taskJson}.
export const LOG_STEP = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'not_found'} end
local task = cjson.decode(cur)
if task.status ~= 'claimed' then return {'not_claimed', cur} end
if not held_by(task.agentId, task.owner, ARGV[2], ARGV[6]) then return {'not_claimer', cur} end
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
local function close(task, status, now, lockPrefix, resultJson, reply)
  -- Out of the index first: a file still counted for the agent afterwards is listed by another
  -- task it holds, and stays locked for that one (FINISH and RELEASE_ALL alike).
  index(task.taskId, task, -1)
  local function still_needed(f)
    local by = redis.call('HGET', KEYS[3], f)
    return by and (tonumber(cjson.decode(by)[tostring(task.agentId)]) or 0) > 0
  end
  local released = {}
  local owner = task.owner
  if type(owner) ~= 'string' then owner = '' end
  if type(task.files) == 'table' then
    for _, f in ipairs(task.files) do
      local held = redis.call('GET', lockPrefix .. f)
      if held and not still_needed(f) then
        local lock = cjson.decode(held)
        if held_by(lock.holder, lock.owner, task.agentId, owner) then
          redis.call('DEL', lockPrefix .. f)
          released[#released + 1] = f; released[#released + 1] = held
        end
      end
    end
  end
  task.status = status; task.updatedAt = now; task.result = nil; task.owner = nil
  if status == 'completed' then task.completedAt = now end
  local out = cjson.encode(task)
  -- Spliced in as text: a cjson round trip would turn [] into {} and mangle big numbers.
  if resultJson ~= '' then out = string.sub(out, 1, -2) .. ',"result":' .. resultJson .. '}' end
  redis.call('HSET', KEYS[1], task.taskId, out)
  index(task.taskId, task, 1)
  reply[#reply + 1] = out; reply[#reply + 1] = #released / 2
  for _, v in ipairs(released) do reply[#reply + 1] = v end
end
`;

// KEYS: tasks hash, open index, claimed files, the lock key of every file of the task.
// ARGV: taskId, agentId, status, lockPrefix, result JSON or '', owner ('' none).
export const FINISH = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}${INDEX_FN}${CLOSE_FN}${DECLARED_FN}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'not_found'} end
local task = cjson.decode(cur)
if task.status ~= 'claimed' then return {'not_claimed', cur} end
if not held_by(task.agentId, task.owner, ARGV[2], ARGV[6]) then return {'not_claimer', cur} end
if undeclared(task.files, ARGV[4]) then return {'stale'} end
ensure_index()
local reply = {'ok'}
close(task, ARGV[3], iso(now_ms), ARGV[4], ARGV[5], reply)
return reply
`);

// KEYS: tasks hash, open index, claimed files, the lock key of every file of the agent's claimed
// tasks. ARGV: agentId, lockPrefix, owner ('': every session of the agent; else that session's
// claims and the agent's owner-less ones).
// Returns the closed tasks one after another, or {'stale'} (nothing changed).
export const RELEASE_ALL = new LuaScript(`${LUA_CLOCK}${LUA_HELD_BY}${INDEX_FN}${CLOSE_FN}${DECLARED_FN}
ensure_index()
local entries = redis.call('HGETALL', KEYS[1])
local mine = {}
for i = 1, #entries, 2 do
  local task = cjson.decode(entries[i + 1])
  if task.status == 'claimed' and task.agentId == ARGV[1]
      and (ARGV[3] == '' or held_by(task.agentId, task.owner, ARGV[1], ARGV[3])) then
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
// KEYS: tasks hash, open index, claimed files, then the lock key of each entry of the locks JSON,
// in order. ARGV: lockPrefix, ttlMs, tokenBase, lock reason prefix, n, (taskId, json)*n, locks
// JSON [[file, holder, taskId, owner?], …].
export const RESTORE = new LuaScript(`${LUA_CLOCK}${INDEX_FN}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[5])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[1], ARGV[6 + i * 2], ARGV[7 + i * 2])
end
rebuild_index()
local now, expiresAt = iso(now_ms), iso(now_ms + tonumber(ARGV[2]))
for i, l in ipairs(cjson.decode(ARGV[6 + n * 2])) do
  local rec = {file = l[1], holder = l[2], reason = ARGV[4] .. l[3], taskId = l[3],
               token = ARGV[3] .. ':' .. i, acquiredAt = now, expiresAt = expiresAt}
  if type(l[4]) == 'string' and l[4] ~= '' then rec.owner = l[4] end
  redis.call('SET', KEYS[3 + i], cjson.encode(rec), 'NX', 'PX', ARGV[2])
end
return n
`);

// The tasks agentId may take now, best first: the open index walked a page at a time, each task
// checked (capabilities, dependencies, files claimed or locked by another agent) until `limit`
// of them passed. A member whose task no longer matches it is dropped (the index heals itself).
// KEYS: tasks hash, open index, claimed files. ARGV: agentId, lockPrefix, capabilities JSON, limit,
// owner ('' none: a lock of another session of the agent counts as another's only then).
// Returns the task JSONs.
export const FIND = new LuaScript(`${LUA_HELD_BY}${INDEX_FN}
ensure_index()
local agent, lockPrefix, limit, owner = ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5]
local have = {}
for _, c in ipairs(cjson.decode(ARGV[3])) do have[c] = true end
local statuses = {}
local function completed(d)
  if statuses[d] == nil then
    local json = redis.call('HGET', KEYS[1], d)
    statuses[d] = json and cjson.decode(json).status or 'missing'
  end
  return statuses[d] == 'completed'
end
local function takeable(t)
  if type(t.capabilities) == 'table' then
    for _, c in ipairs(t.capabilities) do if not have[c] then return false end end
  end
  if type(t.dependsOn) == 'table' then
    for _, d in ipairs(t.dependsOn) do if not completed(d) then return false end end
  end
  if type(t.files) == 'table' then
    for _, f in ipairs(t.files) do
      local claimers = redis.call('HGET', KEYS[3], f)
      if claimers then
        for who in pairs(cjson.decode(claimers)) do if who ~= agent then return false end end
      end
      local lock = redis.call('GET', lockPrefix .. f)
      if lock then
        local l = cjson.decode(lock)
        if not held_by(l.holder, l.owner, agent, owner) then return false end
      end
    end
  end
  return true
end
local found, stale, from = {}, {}, 0
local page = math.max(32, limit * 2)
while #found < limit do
  local members = redis.call('ZRANGE', KEYS[2], from, from + page - 1)
  if #members == 0 then break end
  from = from + #members
  for _, member in ipairs(members) do
    if member ~= '' then
      local id = string.sub(member, (string.find(member, '|', 1, true) or 0) + 1)
      local json = redis.call('HGET', KEYS[1], id)
      local t = json and cjson.decode(json)
      local current
      if t then current = select(2, rank_of(id, t)) end
      if not t or (t.status ~= 'open' and t.status ~= 'released') or current ~= member then
        stale[#stale + 1] = member
      elseif takeable(t) then
        found[#found + 1] = json
        if #found >= limit then break end
      end
    end
  end
end
for _, member in ipairs(stale) do redis.call('ZREM', KEYS[2], member) end
return found
`);
