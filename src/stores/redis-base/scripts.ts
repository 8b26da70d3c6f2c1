import { createHash } from 'node:crypto';

/**
 * Lua scripts of the conditional writes. Each touches exactly one key, passed in KEYS, so it runs
 * on the node owning that key's slot in a Cluster; data travels in ARGV, never in the script text.
 * A script runs atomically: no other command can slip between its GET and its SET or DEL.
 */
export const SCRIPTS = {
  // ARGV: expected, value, ttl in ms ('' keeps the remaining TTL)
  compareAndSet: `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  return 1
end
return 0`,
  // ARGV: expected
  compareAndDelete: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('UNLINK', KEYS[1]) end
return 0`,
  // KEYS: an index (a sorted set); ARGV: member, ttl in ms, member, ttl in ms, … Each member's
  // score is when it may be forgotten (Redis's clock, so app servers' clocks do not matter); GT
  // only ever raises it. Members past their score are pruned, and the index itself expires with
  // its last member.
  track: `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local scored = {}
local longest = 0
for i = 1, #ARGV, 2 do
  local ttl = tonumber(ARGV[i + 1])
  if ttl > longest then longest = ttl end
  scored[i] = now + ttl
  scored[i + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], 'GT', unpack(scored))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < longest then redis.call('PEXPIRE', KEYS[1], longest) end
return 1`,
  // Standalone only (its keys live in different slots). KEYS: a key, then the index keys of its
  // levels; ARGV: a lease, its ttl in ms, the ttl of the key's index records in ms, then the
  // key's member in each index. The key's text if present; else writes the lease and records the
  // key in each index as `track` does, and answers nil: one script instead of a `SET … NX GET`
  // and a `track`, and nothing recorded when the key is present.
  leaseAndTrack: `local found = redis.call('GET', KEYS[1])
if found then return found end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'GT', now + ttl, ARGV[i + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return false`,
  // KEYS: a tag (a sorted set: each key recorded under it, scored by when it may be forgotten, and
  // the empty member, scored by when the tag's invalidation stamp may be forgotten); ARGV: key,
  // ttl in ms, how long a stamp is kept in ms. A key's score rises at every record, strictly, so that `untag` can tell a record
  // made after an invalidation read it. Answers Redis's time and the tag's stamp (-1: none), in ms.
  tag: `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
local score = now + ttl
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if old and tonumber(old) >= score then score = tonumber(old) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < score - now then redis.call('PEXPIRE', KEYS[1], score - now) end
local stamp = redis.call('ZSCORE', KEYS[1], '')
if stamp then return {now, tonumber(stamp) - tonumber(ARGV[3])} end
return {now, -1}`,
  // KEYS: a tag (see tag); ARGV: how long the stamp is kept, ms. Stamps the tag now, then
  // answers the keys recorded under it that may still be live, each followed by its score.
  invalidateTag: `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local life = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], 'GT', now + life, '')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')`,
  // KEYS: a tag; ARGV: keys, each followed by the score an invalidation read. Forgets each key
  // still at that score: one recorded again since (a new fill) keeps its record.
  untag: `local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed`,
} as const;

/** The name of a script. */
export type ScriptName = keyof typeof SCRIPTS;

/** Each script's SHA1, for EVALSHA. */
export const SHAS: Readonly<Record<ScriptName, string>> = {
  compareAndSet: sha1(SCRIPTS.compareAndSet),
  compareAndDelete: sha1(SCRIPTS.compareAndDelete),
  track: sha1(SCRIPTS.track),
  leaseAndTrack: sha1(SCRIPTS.leaseAndTrack),
  tag: sha1(SCRIPTS.tag),
  invalidateTag: sha1(SCRIPTS.invalidateTag),
  untag: sha1(SCRIPTS.untag),
};

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
