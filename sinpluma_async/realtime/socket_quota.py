"""How many autosave sockets one user may hold at once, counted on every server process together.

With Redis, a user's sockets are the members of a sorted set (`<prefix>sockets:<user id>`),
each scored with the time it lapses. A process renews the sockets it holds every
`renew_seconds`; a process that dies stops renewing, and its sockets lapse after `ttl_seconds`,
so a crash cannot pin a user's quota. Claiming drops the lapsed members, counts the rest and adds
the new one in one script, on Redis's clock. Without Redis the process counts its own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sinpluma_async.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

TTL_SECONDS = 60.0
RENEW_SECONDS = 20.0

# KEYS[1]: the user's set; ARGV: the socket id, the quota, the lifetime in milliseconds.
CLAIM_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS: the users' sets; ARGV: the lifetime in milliseconds, then for each key its socket ids
# joined by spaces. Renews only members still there (XX), so a released socket stays released.
RENEW_SCRIPT = """
local clock = redis.call('TIME')
local until_ = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
for index, key in ipairs(KEYS) do
  for socket in string.gmatch(ARGV[index + 1], '%S+') do
    redis.call('ZADD', key, 'XX', until_, socket)
  end
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
"""


class SocketQuota(Protocol):
    limit: int

    async def claim(self, user_id: int, socket_id: str) -> bool:
        """Count the socket for its user; False when the user already holds `limit` of them."""

    async def release(self, user_id: int, socket_id: str) -> None:
        """The socket has closed."""

    async def close(self) -> None:
        """Stop renewing (the process is stopping)."""


def forget(held: defaultdict[int, set[str]], user_id: int, socket_id: str) -> None:
    """Drop a socket from this process's record of what each user holds."""
    sockets = held.get(user_id)
    if sockets is not None:
        sockets.discard(socket_id)
        if not sockets:
            del held[user_id]


class MemorySocketQuota:
    """Sockets counted by this process alone (no Redis: there is only one process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: defaultdict[int, set[str]] = defaultdict(set)

    async def claim(self, user_id: int, socket_id: str) -> bool:
        held = self._held[user_id]
        if socket_id not in held and len(held) >= self.limit:
            return False
        held.add(socket_id)
        return True

    async def release(self, user_id: int, socket_id: str) -> None:
        forget(self._held, user_id, socket_id)

    async def close(self) -> None:
        self._held.clear()


class RedisSocketQuota:
    """Sockets counted across processes in Redis, with leases that lapse unless renewed."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        limit: int,
        *,
        ttl_seconds: float = TTL_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        self.limit = limit
        self._redis = redis
        self._prefix = f"{prefix}sockets:"
        self._ttl_ms = int(ttl_seconds * 1000)
        self._renew_seconds = renew_seconds
        self._claim = redis.register_script(CLAIM_SCRIPT)
        self._renew = redis.register_script(RENEW_SCRIPT)
        self._held: defaultdict[int, set[str]] = defaultdict(set)
        self._renewer: asyncio.Task[None] | None = None

    async def claim(self, user_id: int, socket_id: str) -> bool:
        try:
            claimed = await self._claim(keys=[self._key(user_id)], args=[socket_id, self.limit, self._ttl_ms])
        except RedisError:
            raise ServiceUnavailableError("socket quota") from None
        if not claimed:
            return False
        self._held[user_id].add(socket_id)
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_while_held())
        return True

    async def release(self, user_id: int, socket_id: str) -> None:
        forget(self._held, user_id, socket_id)
        try:
            await self._redis.zrem(self._key(user_id), socket_id)
        except RedisError:
            log.warning("Could not release socket %s of user %s; it lapses by itself", socket_id, user_id)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def renew(self) -> None:
        """Extend the lease of every socket this process holds (one round trip)."""
        if not self._held:
            return
        users = list(self._held)
        sockets = [" ".join(self._held[user]) for user in users]
        await self._renew(keys=[self._key(user) for user in users], args=[self._ttl_ms, *sockets])

    async def _renew_while_held(self) -> None:
        try:
            while self._held:
                await asyncio.sleep(self._renew_seconds)
                try:
                    await self.renew()
                except RedisError as error:
                    log.warning("Could not renew this process's socket leases: %s", error)
        finally:
            self._renewer = None

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"
