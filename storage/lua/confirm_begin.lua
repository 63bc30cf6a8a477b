-- Reserve a hold for its confirm transaction: state 'confirming', lease pushed by the grace.
-- ARGV: 1 token, 2 user_id, 3 now_ms, 4 grace_ms
local tok, user, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local hk = hold_key(tok)
local h = redis.call('HMGET', hk, 'user', 'created', 'expires', 'fence', 'epoch', 'seats', 'state', 'entry')
if not h[1] then return {'ERR', 'HOLD_EXPIRED'} end
if h[1] ~= user then return {'ERR', 'FORBIDDEN'} end
if h[7] ~= 'active' or tonumber(h[3]) <= now then return {'ERR', 'HOLD_EXPIRED'} end
local marker, lost = 'h:' .. tok, {}
for _, s in ipairs(split(h[6])) do
  if redis.call('HGET', VIEW, s) ~= marker then lost[#lost + 1] = s end
end
if #lost > 0 then return {'ERR', 'SEAT_UNAVAILABLE', table.concat(lost, ',')} end
local until_ms = now + tonumber(ARGV[4])
redis.call('HSET', hk, 'state', 'confirming')
redis.call('ZADD', EXP, until_ms, tok)
redis.call('PEXPIREAT', hk, until_ms + LEASE_GRACE_MS)
return hold_reply(tok, h[1], h[2], h[3], h[4], h[5], h[6], h[8])
