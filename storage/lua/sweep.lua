-- End every hold of this event whose lease ran out (DESIGN invariant 6), and return to sale
-- the waitlist pool's seats whose reserve ran out. Safe to run from
-- every process at once: a hold leaves the expiry index in the same script that ends it.
-- A hold still 'confirming' when its grace ran out is NOT ended here: it is left for the
-- caller to settle from PostgreSQL (DESIGN invariant 8), and retried after RETRY_MS should
-- that caller die. Only a confirming hold whose key Redis lost is ended blindly (repair '1').
-- ARGV: 1 event_id, 2 now_ms, 3 batch size
-- Reply: {'OK', tok1, user1, seats_csv1, repair1, entry1, tok2, ...}; repair '2' = settle me
-- (seats_csv: the hold's seats, still held), '1' = ended, reconcile the event, '0' = expired.
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local RETRY_MS = 1000
local now = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', EXP, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out, changes, ended = {'OK'}, {}, 0
for _, tok in ipairs(due) do
  local h = redis.call('HMGET', hold_key(tok), 'user', 'seats', 'state', 'entry')
  local user, repair, seats_csv = h[1] or '0', '0', nil
  if h[1] and h[3] == 'confirming' then
    repair = '2'
    seats_csv = h[2]
    redis.call('ZADD', EXP, now + RETRY_MS, tok)
  else
    local seats
    if h[1] then seats = split(h[2]) else seats = seats_by_marker(tok); repair = '1' end
    seats_csv = table.concat(end_hold(tok, user, seats, changes, now), ',')
    record_outcome(tok, user, 'expired')
    ended = ended + 1
  end
  out[#out + 1] = tok
  out[#out + 1] = user
  out[#out + 1] = seats_csv
  out[#out + 1] = repair
  out[#out + 1] = h[4] or '0'
end
if ended > 0 then tally(now, 'expiries', ended) end
-- Pooled seats whose waitlist reserve ran out return to public sale (README "Waitlist").
for _, s in ipairs(redis.call('ZRANGEBYSCORE', POOL_DL, '-inf', now, 'LIMIT', 0,
                              tonumber(ARGV[3]))) do
  unpool(s)
  if redis.call('HGET', VIEW, s) == 'r' then
    redis.call('HSET', VIEW, s, 'a')
    redis.call('ZADD', AVAIL, redis.call('HGET', RANK, s), s)
    redis.call('HINCRBY', META, 'held', -1)
    changes[#changes + 1] = {s, 'available'}
  end
end
emit(ARGV[1], changes, now)
return out
