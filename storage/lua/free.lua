-- A cancelled booking's seats are available again. ARGV: 1 event_id, 2 now_ms, 3.. seat ids
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
local changes, freed = {}, {}
for i = 3, #ARGV do
  local s = ARGV[i]
  if redis.call('HGET', VIEW, s) == 's' then
    freed[#freed + 1] = s
    changes[#changes + 1] = {s, give_back(s, false, tonumber(ARGV[2]))}
  end
end
redis.call('HINCRBY', META, 'sold', -#freed)
tally(tonumber(ARGV[2]), 'cancellations', #freed > 0 and 1 or 0)
emit(ARGV[1], changes, tonumber(ARGV[2]))
return {'OK', table.concat(freed, ',')}
