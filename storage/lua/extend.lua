-- Extend a hold's lease: now + ttl, never past the user's continuous holding start of its seats
-- (hold 'since', else created) + lifetime, never shorter than it is.
-- ARGV: 1 token, 2 user_id, 3 now_ms, 4 ttl_ms (0: the event's), 5 lifetime_ms
local tok, user, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local hk = hold_key(tok)
local h = redis.call('HMGET', hk, 'user', 'created', 'expires', 'fence', 'epoch', 'seats', 'state',
                    'entry', 'since')
if not h[1] then return {'ERR', 'HOLD_EXPIRED'} end
if h[1] ~= user then return {'ERR', 'FORBIDDEN'} end
local expires = tonumber(h[3])
if expires <= now or h[7] ~= 'active' then return {'ERR', 'HOLD_EXPIRED'} end
local ttl = tonumber(ARGV[4])
if ttl == 0 then ttl = tonumber(redis.call('HGET', META, 'ttl') or '0') end
local new = now + ttl
local since = tonumber(h[9] or h[2])  -- the user's continuous holding start (hold.lua)
local cap = since + tonumber(ARGV[5])
if new > cap then new = cap end
if new < expires then new = expires end
redis.call('HSET', hk, 'expires', new)
redis.call('ZADD', EXP, new, tok)
redis.call('PEXPIREAT', hk, new + LEASE_GRACE_MS)
if h[9] then mark_since(user, split(h[6]), since, new, tonumber(ARGV[5])) end
return hold_reply(tok, h[1], h[2], new, h[4], h[5], h[6], h[8])
