"""Counters shared by every process through Redis, in the round trip that checks a token's revocations.

One Lua script reads the revocation keys (and the user's recent-write flag, `freshness/`, and the
generations a route asks for, `reader_copies/`) and counts the call: no library can put a token
check and a count in one round trip, and an authenticated request makes exactly one. Each counter
is a list of call times (Redis's clock, in ms), newest first: the moving window of `memory.py`, so
both stores answer alike. While Redis does not answer, calls are counted in this process's memory
instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.ratelimits.counting import Count, Hit, Tally
from sinpluma_async.ratelimits.memory import Clock, MemoryCounters
from sinpluma_async.reader_copies.generations import LIFETIME_MS, new_generation
from sinpluma_async.security.revocation import RecentWriteKey
from sinpluma_async.security.tokens import Claims

log = logging.getLogger(__name__)
# While Redis is down, one call tries it again this often; the others count in memory meanwhile.
RETRY_SECONDS = 1.0

# KEYS: the token's revocation keys (ARGV[1] of them), its user's recent-write key (ARGV[2]: 1 or 0),
# the generation keys (ARGV[3] of them), then one list per hit.
# ARGV: those three numbers, the value of a generation started now and its lifetime in ms, then per
# hit its amount, its window in ms and 1 if conditional.
# Returns: revoked (0/1), wrote recently (0/1), now (ms), each generation, then per hit whether it
# fits (0/1), the calls in its window, and the ms until one more fits.
COUNT_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local guards, flags, generations = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local revoked, wrote = 0, 0
if guards > 0 then revoked = redis.call('EXISTS', unpack(KEYS, 1, guards)) end
if flags > 0 then wrote = redis.call('EXISTS', KEYS[guards + 1]) end
local result = {revoked, wrote, now}
for i = guards + flags + 1, guards + flags + generations do
  local generation = redis.call('GET', KEYS[i])
  if not generation then
    generation = ARGV[4]
    redis.call('SET', KEYS[i], generation, 'PX', ARGV[5])
  end
  result[#result + 1] = generation
end
local first = guards + flags + generations
local used, fits, all_fit = {}, {}, true
for i = 1, #KEYS - first do
  local key, amount, window = KEYS[first + i], tonumber(ARGV[3 * i + 3]), tonumber(ARGV[3 * i + 4])
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and tonumber(oldest) <= now - window do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  used[i] = redis.call('LLEN', key)
  fits[i] = used[i] < amount
  all_fit = all_fit and fits[i]
end
for i = 1, #KEYS - first do
  local key, amount, window = KEYS[first + i], tonumber(ARGV[3 * i + 3]), tonumber(ARGV[3 * i + 4])
  if fits[i] and (all_fit or ARGV[3 * i + 5] == '0') then
    redis.call('LPUSH', key, now)
    redis.call('PEXPIRE', key, window)
    used[i] = used[i] + 1
  end
  local wait = 0
  if used[i] > 0 then
    -- The oldest call, or (above a limit lowered since) the one whose leaving lets a call in.
    local index = -1
    if used[i] > amount then index = amount - 1 end
    wait = tonumber(redis.call('LINDEX', key, index)) + window - now
  end
  result[#result + 1] = fits[i] and 1 or 0
  result[#result + 1] = used[i]
  result[#result + 1] = wait
end
return result
"""


class RedisCounters:
    """Counters in Redis under `<prefix>ratelimit:<policy>:<key>`."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        revocation_keys: Callable[[Claims], list[str]],
        recent_write_key: RecentWriteKey | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}ratelimit:"
        self._revocation_keys = revocation_keys
        self._recent_write_key = recent_write_key
        self._script = redis.register_script(COUNT_SCRIPT)

    async def count(
        self, hits: Sequence[Hit], *, token: Claims | None = None, generations: Sequence[str] = ()
    ) -> Tally:
        guards = self._revocation_keys(token) if token is not None else []
        flags = [self._recent_write_key(token.user_id)] if token and self._recent_write_key else []
        arguments: list[int | bytes] = [len(guards), len(flags), len(generations)]
        # A new generation's value is made only for a call that reads generations.
        arguments += [new_generation() if generations else b"", LIFETIME_MS]
        for hit in hits:
            arguments += [hit.policy.rate.amount, hit.policy.rate.seconds * 1000, int(hit.conditional)]
        keys = [*guards, *flags, *generations, *(self._key(hit) for hit in hits)]
        revoked, wrote, now, *read = await self._script(keys=keys, args=arguments)
        counts = read[len(generations) :]
        tally = []
        for index, hit in enumerate(hits):
            fits, used, wait = counts[3 * index : 3 * index + 3]
            counted = bool(fits) and (not hit.conditional or all(counts[0::3]))
            tally.append(Count(hit, bool(fits), counted, int(used), int(wait) / 1000))
        return Tally(
            tuple(tally),
            float(now),
            shared=True,
            revoked=bool(revoked),
            wrote_recently=bool(wrote),
            generations=dict(zip(generations, read, strict=False)),
        )

    async def refund(self, tally: Tally, policies: Collection[str]) -> None:
        refunded = [count for count in tally.counts if count.counted and count.policy.name in policies]
        if not refunded:
            return
        async with self._redis.pipeline(transaction=False) as pipeline:
            for count in refunded:
                pipeline.lrem(self._key(count.hit), 1, str(int(tally.stamp)))
            await pipeline.execute()

    def _key(self, hit: Hit) -> str:
        return f"{self._prefix}{hit.policy.name}:{hit.key}"


class SharedCounters:
    """Redis's counters, or this process's memory while Redis does not answer (never unlimited).

    A call with a token always asks Redis, which alone knows its revocations; when Redis fails it is
    counted in memory and answered 503, as every token check is while Redis is down.
    """

    def __init__(
        self, redis: RedisCounters, memory: MemoryCounters, *, clock: Clock = time.monotonic
    ) -> None:
        self._redis = redis
        self._memory = memory
        self._clock = clock
        self._down = False
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        """Whether calls are being counted in this process because Redis did not answer."""
        return self._down

    async def count(
        self, hits: Sequence[Hit], *, token: Claims | None = None, generations: Sequence[str] = ()
    ) -> Tally:
        if token is not None or self._may_try():
            try:
                tally = await self._redis.count(hits, token=token, generations=generations)
            except (RedisError, TimeoutError) as error:
                self._failed(error)
            else:
                self._answered()
                return tally
        tally = await self._memory.count(hits)
        if token is not None:
            raise ServiceUnavailableError("token store")
        return tally

    async def refund(self, tally: Tally, policies: Collection[str]) -> None:
        if not tally.shared:
            await self._memory.refund(tally, policies)
            return
        try:
            await self._redis.refund(tally, policies)
        except (RedisError, TimeoutError) as error:
            # The failure stays counted: better than a login that fails for want of Redis.
            log.warning("Could not give back a counted login failure: %s", error)

    def _may_try(self) -> bool:
        if not self._down:
            return True
        now = self._clock()
        if now < self._retry_at:
            return False
        self._retry_at = now + RETRY_SECONDS  # one call tries; the others count in memory meanwhile
        return True

    def _failed(self, error: Exception) -> None:
        if not self._down:
            log.warning("Redis does not answer (%s): rate limits are counted in this process", error)
        self._down = True
        self._retry_at = self._clock() + RETRY_SECONDS

    def _answered(self) -> None:
        if self._down:
            log.warning("Redis answers again: rate limits are shared by every process again")
        self._down = False
