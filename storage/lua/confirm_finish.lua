-- After the booking committed in PostgreSQL: its seats are sold, the hold is over.
-- ARGV: 1 event_id, 2 token, 3 now_ms, 4.. seat ids
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local tok, now = ARGV[2], tonumber(ARGV[3])
local changes, sold = {}, 0
for i = 4, #ARGV do
  local s = ARGV[i]
  local v = redis.call('HGET', VIEW, s)
  if v and v ~= 's' then
    if v == 'a' then redis.call('ZREM', AVAIL, s)
    else
      redis.call('HINCRBY', META, 'held', -1)
      if v == 'r' then unpool(s) end
    end
    redis.call('HSET', VIEW, s, 's')
    sold = sold + 1
    changes[#changes + 1] = {s, 'sold'}
  end
end
redis.call('HINCRBY', META, 'sold', sold)
local h = redis.call('HMGET', hold_key(tok), 'user', 'seats')
if h[1] then end_hold(tok, h[1], split(h[2]), changes, now) end
tally(now, 'bookings', 1)
emit(ARGV[1], changes, now)
return {'OK'}
