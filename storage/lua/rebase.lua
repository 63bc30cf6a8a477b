-- Put a loaded view under a new epoch in place, after a Redis failover: the promoted replica
-- may have missed the last writes of the old master, so `seq` may have gone back and deltas
-- clients saw may be gone. Holds and seats stay (reconcile repairs sold seats afterwards);
-- the history of the old epoch is dropped, and subscribers are told to take a snapshot.
-- ARGV: 1 event_id, 2 new epoch. Reply: {'OK', epoch}
if redis.call('EXISTS', META) == 0 then return {'ERR', 'NO_VIEW'} end
redis.call('HSET', META, 'epoch', ARGV[2])
redis.call('DEL', HIST)
redis.call('PUBLISH', CHANNEL, '{"type":"epoch","event_id":' .. ARGV[1] .. ',"epoch":' ..
           ARGV[2] .. '}')
return {'OK', ARGV[2]}
