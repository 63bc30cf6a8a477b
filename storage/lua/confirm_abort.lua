-- The confirm transaction failed for a passing reason: the hold is active again as it was.
-- ARGV: 1 token
local hk = hold_key(ARGV[1])
local h = redis.call('HMGET', hk, 'state', 'expires')
if not h[1] then return {'OK'} end
redis.call('HSET', hk, 'state', 'active')
redis.call('ZADD', EXP, h[2], ARGV[1])
redis.call('PEXPIREAT', hk, tonumber(h[2]) + LEASE_GRACE_MS)
return {'OK'}
