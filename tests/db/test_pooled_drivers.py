"""The fast lane's connections come straight from the engine's pool (db/pooled_drivers.py):
given back after every use, and failing as SQLAlchemy's connections fail when none can be made."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from sqlalchemy import bindparam, make_url, select
from sqlalchemy.exc import DBAPIError, OperationalError, SAWarning

from sinpluma_async.db.engines import Database, create_engine
from sinpluma_async.db.pooled_drivers import pooled_driver
from sinpluma_async.pages.models import PAGES
from tests.live import free_port

_TITLE = select(PAGES.c.title).where(PAGES.c.id == bindparam("page_id"))


async def test_every_read_gives_its_connection_back_to_the_pool(mariadb_url):
    database = Database(mariadb_url, pool_size=1, prepared=(_TITLE,))
    pool = database.reader.sync_engine.pool
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            reads = [database.read_row(_TITLE, {"page_id": page_id}) for page_id in range(8)]
            assert await asyncio.gather(*reads) == [None] * 8
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        # Given back, not found by the garbage collector (which SQLAlchemy warns of).
        assert not [warning for warning in warned if issubclass(warning.category, SAWarning)]
    finally:
        await database.dispose()


async def test_a_database_that_cannot_be_reached_fails_as_through_sqlalchemys_connections(mariadb_url):
    """The same error, wrapped the same way, as a connection of SQLAlchemy's own (a 503 `database`)."""
    unreachable = make_url(mariadb_url).set(host="127.0.0.1", port=free_port(), query={})
    database = Database(unreachable, pool_size=1, prepared=(_TITLE,))
    try:
        with pytest.raises(DBAPIError) as through_sqlalchemy:
            async with database.reader.connect():
                pass
        with pytest.raises(DBAPIError) as through_the_lane:
            await database.read_row(_TITLE, {"page_id": 1})
        assert type(through_the_lane.value) is type(through_sqlalchemy.value) is OperationalError
        assert type(through_the_lane.value.orig) is type(through_sqlalchemy.value.orig)
        invalidated = through_sqlalchemy.value.connection_invalidated
        assert through_the_lane.value.connection_invalidated == invalidated
        assert database.reader.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await database.dispose()


async def test_a_connection_discarded_twice_is_discarded_once_and_quietly(mariadb_url):
    """A failed statement and then its failed rollback both discard the connection."""
    engine = create_engine(mariadb_url, pool_size=1, autocommit=True)
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            async with pooled_driver(engine) as connection:
                await connection.invalidate()
                await connection.invalidate()
                assert connection.driver.closed
        assert not [warning for warning in warned if issubclass(warning.category, SAWarning)]
        async with pooled_driver(engine) as replacement:
            assert not replacement.driver.closed
    finally:
        await engine.dispose()
