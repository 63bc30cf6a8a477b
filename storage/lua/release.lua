-- End a hold now (owner's release, or a dead lease after a failed confirm).
-- ARGV: 1 event_id, 2 token, 3 user_id ('0': any owner), 4 now_ms,
--       5 outcome recorded for GET /holds/{id} ('released' unless given)
-- Reply: {'OK', freed csv} or {'ERR', code}
local tok, now = ARGV[2], tonumber(ARGV[4])
local h = redis.call('HMGET', hold_key(tok), 'user', 'seats', 'since', 'life')
if not h[1] then return {'ERR', 'NOT_FOUND'} end
if ARGV[3] ~= '0' and h[1] ~= ARGV[3] then return {'ERR', 'FORBIDDEN'} end
local changes = {}
local seats = split(h[2])
-- The user's "held since" markers: their cool-down starts at this release.
if h[3] then mark_since(h[1], seats, tonumber(h[3]), now, tonumber(h[4])) end
local freed = end_hold(tok, h[1], seats, changes, now)
record_outcome(tok, h[1], ARGV[5] or 'released')
emit(ARGV[1], changes, now)
return {'OK', table.concat(freed, ',')}
