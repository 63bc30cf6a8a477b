-- Shared helpers, prepended to every script (storage/seatview.py).
-- KEYS[1] is the event's meta key "ev:{e:ID}:meta"; every other key of the event shares its
-- hash tag, so each script touches one Redis Cluster slot (DESIGN invariant 7).
local META = KEYS[1]
local P = string.sub(META, 1, -5)            -- "ev:{e:ID}:"
local CHANNEL = string.sub(META, 1, -6)      -- "ev:{e:ID}"
local VIEW, AVAIL, RANK, LABEL = P .. 'view', P .. 'avail', P .. 'rank', P .. 'label'
local EXP, UHELD, HIST = P .. 'exp', P .. 'uheld', P .. 'hist'
local HIST_MAX = 2000                        -- deltas kept for `since` recovery
local LEASE_GRACE_MS = 300000                -- a hold key outlives its lease by this much

local function hold_key(tok) return P .. 'h:' .. tok end

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

-- Give back the seats a hold still has in the view; end the hold's bookkeeping.
-- Returns the list of seat ids made available; appends {id,'available'} to `changes`.
local function end_hold(tok, user, seats, changes)
  local marker = 'h:' .. tok
  local freed = {}
  for _, s in ipairs(seats) do
    if redis.call('HGET', VIEW, s) == marker then
      redis.call('HSET', VIEW, s, 'a')
      redis.call('ZADD', AVAIL, redis.call('HGET', RANK, s), s)
      freed[#freed + 1] = s
      changes[#changes + 1] = {s, 'available'}
    end
  end
  if #freed > 0 then redis.call('HINCRBY', META, 'held', -#freed) end
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

local function hold_reply(tok, h_user, created, expires, fence, epoch, seats_csv)
  local seats = split(seats_csv)
  local labels = {}
  if #seats > 0 then labels = redis.call('HMGET', LABEL, unpack(seats)) end
  for i = 1, #labels do labels[i] = labels[i] or '' end
  return {'OK', tok, h_user, tostring(created), tostring(expires), tostring(fence),
          tostring(epoch), seats_csv, table.concat(labels, '\n')}
end
