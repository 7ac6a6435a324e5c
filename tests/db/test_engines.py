from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from sinpluma_async.db.engines import Database
from sinpluma_async.db.statements import UnpreparedStatementError
from sinpluma_async.db.types import utcnow
from sinpluma_async.pages.models import PAGES
from tests.support import create_notebook, create_page


async def _page_row(database, page_id):
    async with database.snapshot() as session:
        row = await session.execute(
            select(PAGES.c.title, PAGES.c.version, PAGES.c.updated_at).where(PAGES.c.id == page_id)
        )
        return row.one()


_RETITLE = (
    update(PAGES)
    .where(PAGES.c.id == bindparam("page_id"))
    .values(title=bindparam("new_title"), updated_at=bindparam("now", type_=PAGES.c.updated_at.type))
)
_MOVE = update(PAGES).where(PAGES.c.id == bindparam("page_id")).values(position=bindparam("to"))


@pytest.fixture
async def database(settings):
    """A database of the app's backend, built with this module's statements prepared."""
    prepared = Database(
        settings.database_url, pool_size=settings.database_pool_size, prepared=(_RETITLE, _MOVE)
    )
    yield prepared
    await prepared.dispose()


async def test_prepared_statements_commit_together_with_their_row_counts(client, writer, database):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    now = utcnow()
    async with database.statements_transaction() as run:
        assert await run(_RETITLE, {"page_id": page["page_id"], "new_title": "Dos", "now": now}) == 1
        assert await run(_RETITLE, {"page_id": 0, "new_title": "x", "now": now}) == 0
    title, _, updated_at = await _page_row(database, page["page_id"])
    assert title == "Dos" and updated_at == now


async def test_prepared_statements_roll_back_on_any_error_and_the_connection_stays_usable(
    client, writer, database
):
    notebook = await create_notebook(client, writer)
    first = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    second = await create_page(client, writer, notebook["notebook_id"], title="Dos")
    now = utcnow()
    with pytest.raises(RuntimeError):
        async with database.statements_transaction() as run:
            await run(_RETITLE, {"page_id": first["page_id"], "new_title": "Perdido", "now": now})
            raise RuntimeError("the caller gives up")
    with pytest.raises(IntegrityError):  # SQLAlchemy's error, whichever way the statement ran
        async with database.statements_transaction() as run:
            await run(_RETITLE, {"page_id": first["page_id"], "new_title": "Perdido", "now": now})
            await run(_MOVE, {"page_id": first["page_id"], "to": second["position"]})
    # Each pooled connection is used again: one left inside the failed transaction would now
    # commit it along with these.
    for _ in range(12):
        async with database.statements_transaction() as run:
            assert await run(_RETITLE, {"page_id": second["page_id"], "new_title": "Tres", "now": now}) == 1
    assert (await _page_row(database, first["page_id"])).title == "Uno"
    assert (await _page_row(database, second["page_id"])).title == "Tres"


async def test_a_statement_the_database_was_not_built_with_is_refused(client, writer, settings):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    database = Database(settings.database_url, prepared=(_MOVE,))
    try:
        with pytest.raises(UnpreparedStatementError, match="prepared"):
            async with database.statements_transaction() as run:
                await run(_RETITLE, {"page_id": page["page_id"], "new_title": "Dos", "now": utcnow()})
        assert (await _page_row(database, page["page_id"])).title == "Uno"
    finally:
        await database.dispose()


async def assert_invalidated_then_replaced(
    database: Database, error: DBAPIError, params: dict[str, Any]
) -> None:
    """The lane reported its connection lost, and the pool's next connection works."""
    assert error.connection_invalidated
    async with database.statements_transaction() as run:
        assert await run(_RETITLE, params) == 0


async def test_a_connection_killed_under_the_fast_lane_is_reported_as_invalidated(mariadb_url):
    database = Database(mariadb_url, pool_size=1, prepared=(_RETITLE,))
    checked_out: list[int] = []

    @event.listens_for(database.writer.sync_engine, "checkout")
    def remember(dbapi_connection, _record, _proxy):
        checked_out.append(dbapi_connection.driver_connection.thread_id())

    params = {"page_id": 0, "new_title": "x", "now": utcnow()}
    try:
        with pytest.raises(DBAPIError) as raised:
            async with database.statements_transaction() as run:
                await run(_RETITLE, params)
                async with database.reader.connect() as killer:
                    await killer.execute(text(f"KILL {checked_out[-1]}"))
                await run(_RETITLE, params)
        await assert_invalidated_then_replaced(database, raised.value, params)
    finally:
        await database.dispose()


async def test_a_pooled_connection_closed_by_a_cancelled_query_is_reported_as_invalidated(mariadb_url):
    database = Database(mariadb_url, pool_size=1, prepared=(_RETITLE,))
    params = {"page_id": 0, "new_title": "x", "now": utcnow()}
    try:
        async with database.writer.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            driver._close_on_cancel()  # what aiomysql does to a connection whose query was cancelled
        with pytest.raises(DBAPIError) as raised:
            async with database.statements_transaction() as run:
                await run(_RETITLE, params)
        await assert_invalidated_then_replaced(database, raised.value, params)
    finally:
        await database.dispose()
