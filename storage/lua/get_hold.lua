-- Read a hold. ARGV: 1 token.
-- Reply: hold_reply(...) followed by the state ('active' | 'confirming'), or
-- {'ERR','NOT_FOUND', outcome} where outcome is "<user>|released|expired" if recorded, else ''.
local h = redis.call('HMGET', hold_key(ARGV[1]), 'user', 'created', 'expires', 'fence', 'epoch',
                     'seats', 'entry', 'state')
if not h[1] then
  return {'ERR', 'NOT_FOUND', redis.call('GET', outcome_key(ARGV[1])) or ''}
end
local reply = hold_reply(ARGV[1], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
reply[#reply + 1] = h[8] or 'active'
return reply
