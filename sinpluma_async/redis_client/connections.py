"""The Redis client: every call bounded, a bounded pool callers wait on, resets that are RedisErrors.

With a Sentinel URL the client asks the sentinels where the master is, and again whenever its
connections to the master fail, so a promoted replica is found without a restart. Replicas are
never read from: every call goes to the master.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from sinpluma_async.redis_client.sentinel_url import SentinelAddress, is_sentinel_url, parse_sentinel_url

REDIS_TIMEOUT_SECONDS = 1.0
REDIS_POOL_SIZE = 50


def bounded_calls() -> dict[str, Any]:
    """What keeps each call to Redis within about two seconds: timeouts and one quick retry."""
    return {
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "retry": Retry(ExponentialBackoff(cap=0.1, base=0.01), retries=1),
        "health_check_interval": 30,
    }


def connect_redis(url: str) -> Redis:
    """A client that gives up within about two seconds, so that callers can fail closed.

    Its pool is bounded and callers wait for a free connection: redis-py's default pool raises
    as soon as 100 connections are busy, which a burst of sockets authenticating at once reaches.
    """
    if is_sentinel_url(url):
        return connect_sentinel_master(parse_sentinel_url(url))
    pool = BlockingConnectionPool.from_url(
        url,
        **reset_safe_connections(url),
        max_connections=REDIS_POOL_SIZE,
        timeout=REDIS_TIMEOUT_SECONDS,
        **bounded_calls(),
    )
    return Redis(connection_pool=pool)


def connect_sentinel_master(address: SentinelAddress) -> Redis:
    """A client of the master the sentinels name, with connect_redis's bounds.

    The sentinels are asked with the same timeouts and no retry: the next sentinel is the retry.
    """
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(address.sentinels),
        sentinel_kwargs={
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), retries=0),
        },
    )
    master: Redis = sentinel.master_for(
        address.service,
        connection_pool_class=BlockingSentinelConnectionPool,
        connection_class=ResetSafeSentinelConnection,
        max_connections=REDIS_POOL_SIZE,
        timeout=REDIS_TIMEOUT_SECONDS,
        db=address.db,
        username=address.username,
        password=address.password,
        **bounded_calls(),
    )
    return master


async def close_redis(redis: Redis) -> None:
    """Close the client, its pool and, for a Sentinel master, its connections to the sentinels."""
    await redis.aclose()
    pool = redis.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        await pool.sentinel_manager.aclose()


class ResetSafeConnection(Connection):
    """A TCP connection to Redis whose reset is always a ConnectionError. Under uvloop, writing to
    a connection the server has reset raises RuntimeError (not an OSError), which redis-py neither
    retries nor turns into a RedisError: callers would answer 500 instead of 503."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except RuntimeError as error:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Connection to Redis lost: {error}") from error


class ResetSafeSentinelConnection(SentinelManagedConnection, ResetSafeConnection):
    """A connection to the master the sentinels name, reset-safe as ResetSafeConnection (which
    SentinelManagedConnection leaves send_packed_command to, in this order of bases)."""


class BlockingSentinelConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """SentinelConnectionPool finds the master; BlockingConnectionPool makes callers wait for a
    free connection rather than fail at once. SentinelConnectionPool overrides neither
    get_connection nor release, so the blocking pool's are the ones used (tests/test_seams.py)."""


def reset_safe_connections(url: str) -> dict[str, Any]:
    """The pool's connection class for plain TCP URLs (TLS and Unix sockets keep redis-py's)."""
    return {"connection_class": ResetSafeConnection} if url.startswith("redis://") else {}
