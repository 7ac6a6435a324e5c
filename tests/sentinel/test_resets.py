"""A reset of the master's connection, under uvloop as the server runs, is a RedisError (which the
callers answer 503), also for connections the sentinels point: not uvloop's RuntimeError (a 500)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import uvloop
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from sinpluma_async.redis_client.connections import (
    BlockingSentinelConnectionPool,
    ResetSafeSentinelConnection,
)
from tests.faults import FaultProxy
from tests.support import wait_until


class NamesTheProxy:
    """Sentinels that name the fault proxy as the master."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        return "127.0.0.1", self.port


async def ping_after_a_reset(redis_host: str, redis_port: int) -> BaseException | None:
    with FaultProxy(redis_host, redis_port) as proxy:
        pool = BlockingSentinelConnectionPool(
            "mymaster",
            NamesTheProxy(proxy.port),
            connection_class=ResetSafeSentinelConnection,
            max_connections=1,
            timeout=1,
            socket_timeout=1,
            retry=Retry(NoBackoff(), retries=0),
        )
        client = Redis.from_pool(pool)
        try:
            await client.ping()
            [connection] = pool._available_connections
            proxy.set("reset")

            async def reset_seen() -> bool:
                # The loop has read the RST and closed the transport: the next write is the one
                # uvloop refuses with a RuntimeError.
                return bool(connection._writer and connection._writer.transport.is_closing())

            await wait_until(reset_seen)
            try:
                await client.ping()
            except Exception as error:
                return error
            return None
        finally:
            await client.aclose()


@pytest.mark.services
def test_a_reset_of_the_named_master_is_a_connection_error(redis_url):
    target = urlsplit(redis_url)
    error = uvloop.run(ping_after_a_reset(target.hostname or "127.0.0.1", target.port or 6379))
    assert isinstance(error, RedisError), repr(error)
