-- Offer seats to a waitlist entry: a hold for the waiter, from the waitlist pool first, then
-- from available seats (best first). Each pooled seat leaves the pool in this script, so it is
-- offered exactly once however many processes promote at the same moment.
-- The offered seats count toward the user's held-seat cap, checked here (README).
-- ARGV: 1 event_id, 2 user_id, 3 token, 4 now_ms, 5 ttl_ms, 6 qty, 7 entry_id, 8 max_held
-- Reply: hold_reply(...) or {'ERR', 'NOT_ENOUGH_SEATS', n_free} or {'ERR', 'HOLD_LIMIT', held}
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local m = redis.call('HMGET', META, 'active', 'epoch')
if m[1] ~= '1' then return {'ERR', 'EVENT_INACTIVE'} end
local user, tok, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ttl, qty = tonumber(ARGV[5]), tonumber(ARGV[6])
local held = tonumber(redis.call('HGET', UHELD, user) or '0')
if held + qty > tonumber(ARGV[8]) then return {'ERR', 'HOLD_LIMIT', tostring(held)} end
local pooled = redis.call('SCARD', POOL)
local free = pooled + redis.call('ZCARD', AVAIL)
if free < qty then return {'ERR', 'NOT_ENOUGH_SEATS', tostring(free)} end
local seats, changes = {}, {}
if pooled > 0 then
  local members = redis.call('SMEMBERS', POOL)
  table.sort(members, function(a, b)
    return tonumber(redis.call('HGET', RANK, a)) < tonumber(redis.call('HGET', RANK, b)) end)
  for i = 1, math.min(qty, #members) do
    seats[#seats + 1] = members[i]
    unpool(members[i])
  end
end
if #seats < qty then
  for _, s in ipairs(pick_best(qty - #seats)) do
    seats[#seats + 1] = s
    redis.call('ZREM', AVAIL, s)
    redis.call('HINCRBY', META, 'held', 1)
    changes[#changes + 1] = {s, 'held'}
  end
end
local counter = redis.call('HINCRBY', META, 'fence', 1)
for _, s in ipairs(seats) do redis.call('HSET', VIEW, s, 'h:' .. tok) end
local csv = table.concat(seats, ',')
local expires = now + ttl
redis.call('HSET', hold_key(tok), 'user', user, 'seats', csv, 'created', now,
           'expires', expires, 'fence', counter, 'epoch', m[2], 'state', 'active',
           'entry', ARGV[7])
redis.call('PEXPIREAT', hold_key(tok), expires + LEASE_GRACE_MS)
redis.call('ZADD', EXP, expires, tok)
redis.call('HINCRBY', UHELD, user, #seats)
tally(now, 'offers', 1)
emit(ARGV[1], changes, now)
return hold_reply(tok, user, now, expires, counter, m[2], csv, ARGV[7])
