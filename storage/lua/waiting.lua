-- After a promotion: record how many entries still wait (meta 'wl') and how long a freed seat
-- is reserved for them (meta 'wlres', ms). With nobody waiting, the pooled seats go to the
-- public; otherwise each stays reserved until its reserve runs out (sweep.lua).
-- ARGV: 1 event_id, 2 now_ms, 3 waiting count, 4 reserve ms. Reply: {'OK', n_released}
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
redis.call('HSET', META, 'wl', ARGV[3], 'wlres', ARGV[4])
local changes = {}
if tonumber(ARGV[3]) == 0 then
  for _, s in ipairs(redis.call('SMEMBERS', POOL)) do
    unpool(s)
    redis.call('HSET', VIEW, s, 'a')
    redis.call('ZADD', AVAIL, redis.call('HGET', RANK, s), s)
    redis.call('HINCRBY', META, 'held', -1)
    changes[#changes + 1] = {s, 'available'}
  end
end
emit(ARGV[1], changes, tonumber(ARGV[2]))
return {'OK', tostring(#changes)}
