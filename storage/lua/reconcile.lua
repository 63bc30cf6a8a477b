-- Make the view's sold seats equal PostgreSQL's (DESIGN invariant 3 repair).
-- ARGV: 1 event_id, 2 now_ms, 3.. seat ids sold in PostgreSQL. Reply: {'OK', n_changed}
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local sold = {}
for i = 3, #ARGV do sold[ARGV[i]] = true end
local all = redis.call('HGETALL', VIEW)
local changes, dsold, dheld = {}, 0, 0
for i = 1, #all, 2 do
  local id, v = all[i], all[i + 1]
  if sold[id] and v ~= 's' then
    if v == 'a' then redis.call('ZREM', AVAIL, id) else dheld = dheld - 1 end
    if v == 'r' then unpool(id) end
    redis.call('HSET', VIEW, id, 's')
    dsold = dsold + 1
    changes[#changes + 1] = {id, 'sold'}
  elseif v == 's' and not sold[id] then
    redis.call('HSET', VIEW, id, 'a')
    redis.call('ZADD', AVAIL, redis.call('HGET', RANK, id), id)
    dsold = dsold - 1
    changes[#changes + 1] = {id, 'available'}
  end
end
redis.call('HINCRBY', META, 'sold', dsold)
redis.call('HINCRBY', META, 'held', dheld)
emit(ARGV[1], changes, tonumber(ARGV[2]))
return {'OK', tostring(#changes)}
