-- Build an event's view from PostgreSQL under a new epoch, unless one exists already.
-- ARGV: 1 event_id, 2 epoch, 3 active (1/0), 4 ttl_ms, 5 n_seats, (wl: set afterwards)
--       then n_seats triples (seat_id, rank, label), then sold seat ids.
-- Reply: {'OK', epoch} when built; {'EXISTS', epoch} when another process was first.
if redis.call('EXISTS', META) == 1 then return {'EXISTS', redis.call('HGET', META, 'epoch')} end
redis.call('DEL', VIEW, AVAIL, RANK, LABEL, EXP, UHELD, HIST, POOL, POOL_DL)
local n = tonumber(ARGV[5])
local sold = {}
for i = 6 + 3 * n, #ARGV do sold[ARGV[i]] = true end
local view, avail, rank, label = {}, {}, {}, {}
local nsold = 0
local function flush()
  if #view > 0 then redis.call('HSET', VIEW, unpack(view)) end
  if #avail > 0 then redis.call('ZADD', AVAIL, unpack(avail)) end
  if #rank > 0 then redis.call('HSET', RANK, unpack(rank)) end
  if #label > 0 then redis.call('HSET', LABEL, unpack(label)) end
  view, avail, rank, label = {}, {}, {}, {}
end
for i = 0, n - 1 do
  local id, r, l = ARGV[6 + 3 * i], ARGV[7 + 3 * i], ARGV[8 + 3 * i]
  rank[#rank + 1] = id; rank[#rank + 1] = r
  label[#label + 1] = id; label[#label + 1] = l
  view[#view + 1] = id
  if sold[id] then
    view[#view + 1] = 's'
    nsold = nsold + 1
  else
    view[#view + 1] = 'a'
    avail[#avail + 1] = r; avail[#avail + 1] = id
  end
  if #view >= 1000 then flush() end
end
flush()
redis.call('HSET', META, 'epoch', ARGV[2], 'seq', 0, 'fence', 0, 'active', ARGV[3],
           'ttl', ARGV[4], 'held', 0, 'sold', nsold, 'cap', n)
redis.call('PUBLISH', CHANNEL, '{"type":"epoch","event_id":' .. ARGV[1] .. ',"epoch":' ..
           ARGV[2] .. '}')
return {'OK', ARGV[2]}
