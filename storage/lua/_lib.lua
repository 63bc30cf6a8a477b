-- Shared helpers, prepended to every script (storage/seatview.py).
-- KEYS[1] is the event's meta key "ev:{e:ID}:meta"; every other key of the event shares its
-- hash tag, so each script touches one Redis Cluster slot (DESIGN invariant 7).
local META = KEYS[1]
local P = string.sub(META, 1, -5)            -- "ev:{e:ID}:"
local CHANNEL = string.sub(META, 1, -6)      -- "ev:{e:ID}"
local VIEW, AVAIL, RANK, LABEL = P .. 'view', P .. 'avail', P .. 'rank', P .. 'label'
local EXP, UHELD, HIST = P .. 'exp', P .. 'uheld', P .. 'hist'
local POOL = P .. 'pool'                     -- freed seats kept for the waitlist
local POOL_DL = P .. 'pooldl'                -- zset: pooled seat -> ms it returns to sale
local HIST_MAX = 2000                        -- deltas kept for `since` recovery
local LEASE_GRACE_MS = 300000                -- a hold key outlives its lease by this much

local function hold_key(tok) return P .. 'h:' .. tok end

-- How a hold ended, kept an hour so a reconnecting buyer can ask (GET /holds/{id}):
-- "<user>|released" or "<user>|expired". A confirmed hold is looked up in PostgreSQL instead.
local OUTCOME_MS = 3600000
local function outcome_key(tok) return P .. 'o:' .. tok end
local function record_outcome(tok, user, outcome)
  if user and user ~= '0' then
    redis.call('SET', outcome_key(tok), user .. '|' .. outcome, 'PX', OUTCOME_MS)
  end
end

-- Count an activity in the per-minute analytics bucket of the event (kept 3 minutes).
local function tally(now, field, n)
  local bucket = P .. 'm:' .. math.floor(now / 60000)
  redis.call('HINCRBY', bucket, field, n)
  redis.call('PEXPIRE', bucket, 180000)
end

-- Bump seq, append the delta to the capped history and publish it, all in this script
-- (DESIGN invariant 4). `changes` is a list of {seat_id, status}; `now` is epoch ms.
local function emit(event_id, changes, now)
  if #changes == 0 then return 0 end
  local seq = redis.call('HINCRBY', META, 'seq', 1)
  local epoch = redis.call('HGET', META, 'epoch')
  local parts = {}
  for i, c in ipairs(changes) do
    parts[i] = '{"seat_id":' .. c[1] .. ',"status":"' .. c[2] .. '"}'
  end
  local msg = '{"type":"delta","event_id":' .. event_id .. ',"epoch":' .. epoch ..
      ',"seq":' .. seq .. ',"ts":' .. string.format('%d', now) ..
      ',"changes":[' .. table.concat(parts, ',') .. ']}'
  redis.call('XADD', HIST, 'MAXLEN', '~', HIST_MAX, seq .. '-0', 'd', msg)
  redis.call('PUBLISH', CHANNEL, msg)
  return seq
end

local function split(csv)
  local out = {}
  if csv == nil or csv == '' then return out end
  for id in string.gmatch(csv, '[^,]+') do out[#out + 1] = id end
  return out
end

-- A seat becomes free: while anyone waits (meta 'wl' > 0) it goes to the waitlist pool and
-- stays unavailable to the public ('r', shown as held) until `now` + meta 'wlres' ms (the
-- event's waitlist_offer_seconds; sweep.lua returns it to sale then); otherwise it is
-- available. `was_held`: the seat counted in meta 'held' before. Returns the public status.
local function give_back(s, was_held, now)
  if tonumber(redis.call('HGET', META, 'wl') or '0') > 0 then
    redis.call('HSET', VIEW, s, 'r')
    redis.call('SADD', POOL, s)
    redis.call('ZADD', POOL_DL, now + tonumber(redis.call('HGET', META, 'wlres') or '0'), s)
    if not was_held then redis.call('HINCRBY', META, 'held', 1) end
    return 'held'
  end
  redis.call('HSET', VIEW, s, 'a')
  redis.call('ZADD', AVAIL, redis.call('HGET', RANK, s), s)
  if was_held then redis.call('HINCRBY', META, 'held', -1) end
  return 'available'
end

-- A seat leaves the waitlist pool (offered, sold, or back on sale).
local function unpool(s)
  redis.call('SREM', POOL, s)
  redis.call('ZREM', POOL_DL, s)
end

-- A user's "held since" markers for this event: hash seat -> "<since_ms>:<until_ms>", the
-- start of the user's continuous holding of the seat and the end of their last lease on it.
-- A marker counts while until + cool-down > now (DESIGN "Hold"; README lifetime rule).
local function since_key(user) return P .. 'since:' .. user end

-- The earliest live "held since" of `user` over `seats` (or `now`), and the seats whose
-- continuous holding already reached `lifetime` ms.
local function held_since(user, seats, now, lifetime)
  local since, spent = now, {}
  if #seats == 0 then return since, spent end
  local vals = redis.call('HMGET', since_key(user), unpack(seats))
  for i, v in ipairs(vals) do
    if v then
      local a, b = string.match(v, '^(%d+):(%d+)$')
      a, b = tonumber(a), tonumber(b)
      if a and b + lifetime > now then
        if a < since then since = a end
        if a + lifetime <= now then spent[#spent + 1] = seats[i] end
      end
    end
  end
  return since, spent
end

-- Record that `user` holds `seats` continuously since `since`, with a lease until `until_ms`;
-- the markers outlive the lease by the cool-down (`lifetime` ms).
local function mark_since(user, seats, since, until_ms, lifetime)
  if #seats == 0 then return end
  local key, args = since_key(user), {}
  for _, s in ipairs(seats) do
    args[#args + 1] = s
    args[#args + 1] = string.format('%d:%d', since, until_ms)
  end
  -- The key's own expiry (epoch ms) is kept in field '_exp' (never a seat id), so this works
  -- on Redis 6.2 too (the embedded default), which has no PEXPIRETIME.
  local keep = until_ms + lifetime
  local exp = tonumber(redis.call('HGET', key, '_exp') or '0')
  if exp < keep then
    args[#args + 1] = '_exp'
    args[#args + 1] = keep
  end
  redis.call('HSET', key, unpack(args))
  if exp < keep then redis.call('PEXPIREAT', key, keep) end
end

-- The best `qty` available seats (README "Best available"): rows in rank order, i.e. the
-- best section (the organizer's order) first, then rows nearest the stage; in the first row
-- that has `qty` side by side, the run whose middle is nearest the row's centre. A rank is
-- preference*1e9 + row*1e6 + row_length*1e3 + number (hub/seatmap.py), so a row is
-- floor(rank/1e3) and its centre is (row_length+1)/2: nothing outside the sorted set is read.
-- (Older ranks, section*1e6 + row*1e3 + number, still group by row: runs stay side by side.)
-- Looks at the best SCAN_LIMIT available seats at most, else takes the best `qty` even if
-- apart. Cost O(log n + min(n, SCAN_LIMIT)).
local function best_run(ids, nums, qty, centre)
  local best, best_d = nil, nil
  for i = 1, #ids - qty + 1 do
    if nums[i + qty - 1] - nums[i] == qty - 1 then
      local d = math.abs((nums[i] + nums[i + qty - 1]) / 2 - centre)
      if best_d == nil or d < best_d then best, best_d = i, d end
    end
  end
  if best == nil then return nil end
  local out = {}
  for k = 0, qty - 1 do out[#out + 1] = ids[best + k] end
  return out
end

local function pick_best(qty)
  local SCAN_LIMIT, WINDOW = 4096, 256
  local row, ids, nums, centre = nil, {}, {}, 0
  local start = 0
  while start < SCAN_LIMIT do
    local chunk = redis.call('ZRANGE', AVAIL, start, start + WINDOW - 1, 'WITHSCORES')
    for i = 1, #chunk, 2 do
      local r = tonumber(chunk[i + 1])
      local key = math.floor(r / 1000)
      if key ~= row then
        if row ~= nil then
          local run = best_run(ids, nums, qty, centre)
          if run then return run end
        end
        row, ids, nums = key, {}, {}
        centre = (math.floor(r / 1000) % 1000 + 1) / 2
      end
      ids[#ids + 1] = chunk[i]
      nums[#nums + 1] = r % 1000
    end
    if #chunk < WINDOW * 2 then break end
    start = start + WINDOW
  end
  if row ~= nil then
    local run = best_run(ids, nums, qty, centre)
    if run then return run end
  end
  return redis.call('ZRANGE', AVAIL, 0, qty - 1)
end

-- Give back the seats a hold still has in the view; end the hold's bookkeeping.
-- Returns the list of seat ids made available; appends {id,'available'} to `changes`.
-- `now`: epoch ms (pooled seats are reserved from then).
local function end_hold(tok, user, seats, changes, now)
  local marker = 'h:' .. tok
  local freed = {}
  for _, s in ipairs(seats) do
    if redis.call('HGET', VIEW, s) == marker then
      local status = give_back(s, true, now)
      freed[#freed + 1] = s
      if status ~= 'held' then changes[#changes + 1] = {s, status} end
    end
  end
  if user and user ~= '0' then
    local left = redis.call('HINCRBY', UHELD, user, -#seats)
    if left <= 0 then redis.call('HDEL', UHELD, user) end
  end
  redis.call('DEL', hold_key(tok))
  redis.call('ZREM', EXP, tok)
  return freed
end

-- The seats of a hold whose key Redis already dropped: find them by their marker.
local function seats_by_marker(tok)
  local marker, out = 'h:' .. tok, {}
  local all = redis.call('HGETALL', VIEW)
  for i = 1, #all, 2 do
    if all[i + 1] == marker then out[#out + 1] = all[i] end
  end
  return out
end

local function hold_reply(tok, h_user, created, expires, fence, epoch, seats_csv, entry)
  local seats = split(seats_csv)
  local labels = {}
  if #seats > 0 then labels = redis.call('HMGET', LABEL, unpack(seats)) end
  for i = 1, #labels do labels[i] = labels[i] or '' end
  return {'OK', tok, h_user, tostring(created), tostring(expires), tostring(fence),
          tostring(epoch), seats_csv, table.concat(labels, '\n'), tostring(entry or '0')}
end
