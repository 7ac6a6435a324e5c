"""Who wrote recently: a key per user with a TTL in Redis, or an expiry per user in this process."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
Clock = Callable[[], float]
# A process writes a user's key at most this often; the key lives this much longer to make up.
RECORD_EVERY_SECONDS = 1.0
# Past this many users the memory of who was recorded is swept of those no longer throttled.
SWEEP_ABOVE = 10_000


class RecentWrites(Protocol):
    async def record(self, user_id: int) -> None:
        """Remember that the user has just written: their reads go to the writer for a while."""


class RedisRecentWrites:
    """`<prefix>wrote:<user id>` keys, shared by every process; the token check reads them.

    An autosaving editor writes several times a second: a process writes a user's key at most once
    per RECORD_EVERY_SECONDS, and the key lives that much longer than `seconds`, so every write is
    still covered for `seconds` after it.
    """

    def __init__(self, redis: Redis, prefix: str, *, seconds: float, clock: Clock = time.monotonic) -> None:
        self._redis = redis
        self._prefix = f"{prefix}wrote:"
        self._ttl_ms = int((seconds + RECORD_EVERY_SECONDS) * 1000)
        self._enabled = seconds > 0
        self._clock = clock
        self._recorded: dict[int, float] = {}

    def key_of(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    async def record(self, user_id: int) -> None:
        now = self._clock()
        if (
            not self._enabled
            or now - self._recorded.get(user_id, -RECORD_EVERY_SECONDS) < RECORD_EVERY_SECONDS
        ):
            return
        try:
            await self._redis.set(self.key_of(user_id), b"1", px=self._ttl_ms)
        except (RedisError, TimeoutError) as error:
            # The write is committed; while Redis is down every token check answers 503 anyway.
            log.warning("Could not record a write of user %s: %s", user_id, error)
            return
        if len(self._recorded) > SWEEP_ABOVE:
            horizon = now - RECORD_EVERY_SECONDS
            self._recorded = {user: at for user, at in self._recorded.items() if at > horizon}
        self._recorded[user_id] = now


class MemoryRecentWrites:
    """This process's writers, when no Redis is configured (one process only)."""

    def __init__(self, *, seconds: float, clock: Clock = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._until: dict[int, float] = {}

    async def record(self, user_id: int) -> None:
        if self._seconds <= 0:
            return
        now = self._clock()
        if len(self._until) > SWEEP_ABOVE:
            self._until = {user: until for user, until in self._until.items() if until > now}
        self._until[user_id] = now + self._seconds

    def wrote_recently(self, user_id: int) -> bool:
        return self._until.get(user_id, 0.0) > self._clock()
