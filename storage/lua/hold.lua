-- Take a hold, all or nothing (DESIGN "Hold").
-- ARGV: 1 event_id, 2 user_id, 3 token, 4 now_ms, 5 ttl_ms (0: the event's), 6 max_held,
--       7 qty (0: by seat ids), 8 lifetime_ms, 9 waitlist entry id (0: none), 10.. seat ids
-- Reply: hold_reply(...) or {'ERR', code, detail}
-- Lifetime: the lease never runs past the user's continuous holding start ("held since"
-- markers, kept `lifetime` ms after each lease ends) + lifetime; seats whose continuous
-- holding already reached it are SEAT_UNAVAILABLE to this user until the cool-down passes.
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local m = redis.call('HMGET', META, 'active', 'ttl', 'epoch')
if m[1] ~= '1' then return {'ERR', 'EVENT_INACTIVE'} end
local event_id, user, tok = ARGV[1], ARGV[2], ARGV[3]
local now, ttl, max_held = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local qty, lifetime = tonumber(ARGV[7]), tonumber(ARGV[8])
if ttl == 0 then ttl = tonumber(m[2]) end
local held = tonumber(redis.call('HGET', UHELD, user) or '0')
local wanted = qty
if qty == 0 then wanted = #ARGV - 9 end
if held + wanted > max_held then return {'ERR', 'HOLD_LIMIT', tostring(held)} end

local seats = {}
if qty == 0 then
  local unknown, taken = {}, {}
  for i = 10, #ARGV do
    local v = redis.call('HGET', VIEW, ARGV[i])
    if not v then unknown[#unknown + 1] = ARGV[i]
    elseif v ~= 'a' then taken[#taken + 1] = ARGV[i] end
    seats[#seats + 1] = ARGV[i]
  end
  if #unknown > 0 then return {'ERR', 'UNKNOWN_SEATS', table.concat(unknown, ',')} end
  if #taken > 0 then return {'ERR', 'SEAT_UNAVAILABLE', table.concat(taken, ',')} end
else
  local avail = redis.call('ZCARD', AVAIL)
  if avail == 0 then return {'ERR', 'SOLD_OUT'} end
  if avail < qty then return {'ERR', 'NOT_ENOUGH_SEATS', tostring(avail)} end
  seats = pick_best(qty)
end

local since, spent = held_since(user, seats, now, lifetime)
if #spent > 0 then return {'ERR', 'SEAT_UNAVAILABLE', table.concat(spent, ',')} end
local counter = redis.call('HINCRBY', META, 'fence', 1)
local expires = now + ttl
if expires > since + lifetime then expires = since + lifetime end
local changes = {}
for i, s in ipairs(seats) do
  redis.call('HSET', VIEW, s, 'h:' .. tok)
  redis.call('ZREM', AVAIL, s)
  changes[i] = {s, 'held'}
end
local csv = table.concat(seats, ',')
local hk = hold_key(tok)
redis.call('HSET', hk, 'user', user, 'seats', csv, 'created', now, 'expires', expires,
           'fence', counter, 'epoch', m[3], 'state', 'active', 'entry', ARGV[9],
           'since', since, 'life', lifetime)
mark_since(user, seats, since, expires, lifetime)
redis.call('PEXPIREAT', hk, expires + LEASE_GRACE_MS)
redis.call('ZADD', EXP, expires, tok)
redis.call('HINCRBY', UHELD, user, #seats)
redis.call('HINCRBY', META, 'held', #seats)
tally(now, 'holds', 1)
emit(event_id, changes, now)
return hold_reply(tok, user, now, expires, counter, m[3], csv, ARGV[9])
