"""`Database.read_row`: a prepared read's first row, the same on the driver (MySQL) as through
SQLAlchemy (SQLite, and `reading`), and a read cancelled mid-answer leaves the pool sound."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest
from sqlalchemy import bindparam, func, select, text

from sinpluma_async.db.engines import Database
from sinpluma_async.db.statements import UnpreparedStatementError
from sinpluma_async.pages.models import PAGES
from tests.support import WAIT_SECONDS, create_notebook, create_page

_FACTS = select(PAGES.c.title, PAGES.c.published, PAGES.c.updated_at, PAGES.c.content).where(
    PAGES.c.id == bindparam("page_id")
)
_SLEEP = select(func.sleep(bindparam("seconds")).label("slept"))


@pytest.fixture
async def database(settings):
    prepared = Database(settings.database_url, pool_size=settings.database_pool_size, prepared=(_FACTS,))
    yield prepared
    await prepared.dispose()


async def test_a_row_has_its_columns_by_name_converted_as_sqlalchemy_converts_them(client, writer, database):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    row = await database.read_row(_FACTS, {"page_id": page["page_id"]})
    async with database.reading() as connection:
        expected = (await connection.execute(_FACTS, {"page_id": page["page_id"]})).one()
    assert tuple(row) == tuple(expected)
    assert row.title == "Uno" and row.published is False
    assert row.updated_at.tzinfo == UTC and row.updated_at == expected.updated_at


async def test_a_read_of_nothing_is_none_and_only_prepared_reads_run(database):
    assert await database.read_row(_FACTS, {"page_id": 0}) is None
    with pytest.raises(UnpreparedStatementError):
        await database.read_row(select(PAGES.c.id), {})


async def test_a_read_cancelled_mid_answer_leaves_no_dead_connection_in_the_pool(mariadb_url):
    database = Database(mariadb_url, pool_size=1, prepared=(_FACTS, _SLEEP))
    admin = Database(mariadb_url, pool_size=1)
    try:
        sleeping = asyncio.create_task(database.read_row(_SLEEP, {"seconds": 30}))
        query_id = await _running_sleep(admin)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        async with admin.reading() as connection:
            await connection.execute(text(f"KILL QUERY {query_id}"))
        # aiomysql closes a connection whose answer it stopped reading; the next read must not get it.
        assert await database.read_row(_FACTS, {"page_id": 0}) is None
    finally:
        await database.dispose()
        await admin.dispose()


async def _running_sleep(admin: Database) -> int:
    """The id of the connection running the SLEEP, once the server runs it."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            async with admin.reading() as connection:
                found = await connection.execute(
                    text("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT sleep(%'")
                )
                query_id = found.scalar()
            if query_id is not None:
                return int(query_id)
            await asyncio.sleep(0.02)
