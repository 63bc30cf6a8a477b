-- Read a hold. ARGV: 1 token. Reply: hold_reply(...) or {'ERR','NOT_FOUND'}
local h = redis.call('HMGET', hold_key(ARGV[1]), 'user', 'created', 'expires', 'fence', 'epoch',
                     'seats', 'entry')
if not h[1] then return {'ERR', 'NOT_FOUND'} end
return hold_reply(ARGV[1], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
