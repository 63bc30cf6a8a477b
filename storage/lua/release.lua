-- End a hold now (owner's release, or a dead lease after a failed confirm).
-- ARGV: 1 event_id, 2 token, 3 user_id ('0': any owner), 4 now_ms,
--       5 outcome recorded for GET /holds/{id} ('released' unless given)
-- Reply: {'OK', freed csv} or {'ERR', code}
local tok = ARGV[2]
local h = redis.call('HMGET', hold_key(tok), 'user', 'seats')
if not h[1] then return {'ERR', 'NOT_FOUND'} end
if ARGV[3] ~= '0' and h[1] ~= ARGV[3] then return {'ERR', 'FORBIDDEN'} end
local changes = {}
local freed = end_hold(tok, h[1], split(h[2]), changes)
record_outcome(tok, h[1], ARGV[5] or 'released')
emit(ARGV[1], changes, tonumber(ARGV[4]))
return {'OK', table.concat(freed, ',')}
