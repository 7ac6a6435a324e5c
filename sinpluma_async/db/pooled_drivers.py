"""A driver's connection straight from an engine's pool, for the MySQL fast lane.

The lane runs its own SQL on aiomysql's connection and needs nothing of SQLAlchemy's
`AsyncConnection` but the pooled connection under it. Checking one out through `AsyncConnection`
built a `Connection` and switched greenlets three times (to connect, to reach the driver, to close):
about 120 us of CPU to check out, open a cursor and give back, against 60-66 us for the pooled
connection alone, checked out and given back with one switch each (docs/benchmarks.md, "The fast
lane's connections straight from the pool"). The pool, its events (the in-use gauge, the
connect-time settings) and its limits are the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn


class PooledDriver:
    """A connection checked out of an engine's pool: its driver's connection, and a way to
    discard it when it can no longer be trusted."""

    def __init__(self, pooled: PoolProxiedConnection) -> None:
        self._pooled = pooled
        self.driver: Any = pooled.driver_connection

    async def invalidate(self) -> None:
        """Close the connection and let the pool open a new one in its place; once is enough (a
        failed statement and its failed rollback both ask)."""
        if self._pooled.is_valid:
            await greenlet_spawn(self._pooled.invalidate)


@asynccontextmanager
async def pooled_driver(engine: AsyncEngine) -> AsyncIterator[PooledDriver]:
    """A connection of `engine`'s pool, given back at the end.

    A connection that cannot be made fails as SQLAlchemy's `Connection` fails: the driver's error
    wrapped in SQLAlchemy's, marked as a disconnect when it is one.
    """
    dialect = engine.dialect
    try:
        pooled = await engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            None,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(error, None, None),
            dialect=dialect,
        ) from error
    try:
        yield PooledDriver(pooled)
    finally:
        # Giving back may close the connection (an overflow one, or one invalidated), which
        # awaits the driver: SQLAlchemy's pool can only do that inside a greenlet.
        await greenlet_spawn(pooled.close)
