-- New seats (a capacity increase) join the view as available, announced in one delta.
-- ARGV: 1 event_id, 2 now_ms, then triples (seat_id, rank, label)
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local changes = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', VIEW, id) == 0 then
    redis.call('HSET', RANK, id, ARGV[i + 1])
    redis.call('HSET', LABEL, id, ARGV[i + 2])
    changes[#changes + 1] = {id, give_back(id, false, tonumber(ARGV[2]))}
  end
end
redis.call('HINCRBY', META, 'cap', #changes)
emit(ARGV[1], changes, tonumber(ARGV[2]))
return {'OK', tostring(#changes)}
