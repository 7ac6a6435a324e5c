"""Where keys live: Redis, shared by every process, or this process's memory.

A slot holds a marker while its first request runs and that request's response afterwards
(records.py). The marker expires on its own within `marker_seconds` unless its request renews
it, so a worker that dies mid-request cannot pin a key; only the request holding the marker
(its token) may renew, complete or release it. Every Redis failure is a ServiceUnavailableError.
"""

from __future__ import annotations

import time
from typing import Protocol, cast

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from sinpluma_async.errors import ServiceUnavailableError

DEPENDENCY = "idempotency store"
SWEEP_EVERY_SECONDS = 60.0

# Each script acts only while the slot holds the caller's marker (ARGV[1]).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# Completing also stores into an empty slot: a marker that expired while its request still ran
# (Redis away for a while) leaves the slot free, and the response is the one to keep.
_COMPLETE = """
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class IdempotencyStore(Protocol):
    async def claim(self, slot: str, marker: bytes, marker_seconds: float) -> bytes | None:
        """Put `marker` in an empty slot and return None, or return what the slot holds (one round trip)."""

    async def renew(self, slot: str, marker: bytes, marker_seconds: float) -> None:
        """Give the marker, if the slot still holds it, another `marker_seconds`."""

    async def complete(self, slot: str, marker: bytes, record: bytes, record_seconds: float) -> None:
        """Replace the marker (or an empty slot) with the response's record (one round trip)."""

    async def release(self, slot: str, marker: bytes) -> None:
        """Empty the slot if it still holds the marker, so that a retry runs again."""


class RedisIdempotencyStore:
    """Slots under `<prefix>idempotency:`, shared by every process (Redis 7: SET NX GET)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}idempotency:"
        self._renew = redis.register_script(_RENEW)
        self._complete = redis.register_script(_COMPLETE)
        self._release = redis.register_script(_RELEASE)

    async def claim(self, slot: str, marker: bytes, marker_seconds: float) -> bytes | None:
        try:
            held = await self._redis.set(
                self._prefix + slot, marker, nx=True, get=True, px=_milliseconds(marker_seconds)
            )
        except RedisError:
            raise ServiceUnavailableError(DEPENDENCY) from None
        return cast(bytes | None, held)

    async def renew(self, slot: str, marker: bytes, marker_seconds: float) -> None:
        await self._run(self._renew, slot, marker, _milliseconds(marker_seconds))

    async def complete(self, slot: str, marker: bytes, record: bytes, record_seconds: float) -> None:
        await self._run(self._complete, slot, marker, record, _milliseconds(record_seconds))

    async def release(self, slot: str, marker: bytes) -> None:
        await self._run(self._release, slot, marker)

    async def _run(self, script: AsyncScript, slot: str, *args: bytes | int) -> None:
        try:
            await script(keys=[self._prefix + slot], args=list(args))
        except RedisError:
            raise ServiceUnavailableError(DEPENDENCY) from None


class MemoryIdempotencyStore:
    """Slots of this process, for the embedded single-process setup: gone when it stops."""

    def __init__(self) -> None:
        self._slots: dict[str, tuple[bytes, float]] = {}
        self._swept = time.monotonic()

    async def claim(self, slot: str, marker: bytes, marker_seconds: float) -> bytes | None:
        held = self._held(slot)
        if held is not None:
            return held
        self._put(slot, marker, marker_seconds)
        return None

    async def renew(self, slot: str, marker: bytes, marker_seconds: float) -> None:
        if self._held(slot) == marker:
            self._put(slot, marker, marker_seconds)

    async def complete(self, slot: str, marker: bytes, record: bytes, record_seconds: float) -> None:
        if self._held(slot) in (None, marker):
            self._put(slot, record, record_seconds)

    async def release(self, slot: str, marker: bytes) -> None:
        if self._held(slot) == marker:
            del self._slots[slot]

    def _held(self, slot: str) -> bytes | None:
        entry = self._slots.get(slot)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._slots[slot]
            return None
        return entry[0]

    def _put(self, slot: str, value: bytes, seconds: float) -> None:
        now = time.monotonic()
        if now - self._swept > SWEEP_EVERY_SECONDS:
            self._slots = {name: entry for name, entry in self._slots.items() if entry[1] > now}
            self._swept = now
        self._slots[slot] = (value, now + seconds)
