"""A title or content save shares its notebook's lock; creations, moves and deletions take it whole.

The lock tests hold, on a connection of their own, what a transaction of the service holds
midway, and watch InnoDB for a transaction that waits (MariaDB only: SQLite locks the whole
database). The notebook's `updated_at` moves after a save, at most TOUCH_LAG_S behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from sinpluma_async.pages import write_locks
from tests.support import (
    WAIT_SECONDS,
    create_notebook,
    create_page,
    slate,
    wait_for_a_row_lock_wait,
)

mariadb_only = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


@pytest.fixture
async def two_pages(client, writer):
    notebook = await create_notebook(client, writer)
    first = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    second = await create_page(client, writer, notebook["notebook_id"], title="Dos")
    return notebook["notebook_id"], first["page_id"], second["page_id"]


@pytest.fixture
async def engine(backend):
    engine = create_async_engine(backend.settings.database_url)
    yield engine
    await engine.dispose()


@asynccontextmanager
async def holding(engine, *statements: str) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as holder:
        for statement in statements:
            await holder.execute(text(statement))
        yield holder
        await holder.rollback()


def saving(notebook_id: int, page_id: int) -> tuple[str, str]:
    """What a save of the page holds before its commit: the notebook shared, the page whole."""
    return (
        f"SELECT id FROM notebooks WHERE id = {notebook_id} LOCK IN SHARE MODE",
        f"SELECT id FROM pages WHERE id = {page_id} FOR UPDATE",
    )


async def notebook_updated_at(client, writer, notebook_id):
    response = await client.get(f"/notebooks/{notebook_id}", headers=writer.headers)
    return (await response.get_json())["updated_at"]


@mariadb_only
async def test_a_save_does_not_wait_for_a_save_of_another_page_of_the_notebook(
    client, writer, two_pages, engine, backend, monkeypatch
):
    notebook_id, first, second = two_pages
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 3600.0)
    await client.put(f"/pages/{second}", headers=writer.headers, json={"content": slate("antes")})
    async with holding(engine, *saving(notebook_id, first)):
        async with asyncio.timeout(WAIT_SECONDS):
            response = await client.put(
                f"/pages/{second}", headers=writer.headers, json={"content": slate("b")}
            )
        assert response.status_code == 200 and (await response.get_json())["version"] == 3


@mariadb_only
async def test_a_move_waits_for_a_save_in_progress_in_its_notebook(
    client, writer, two_pages, engine, backend
):
    notebook_id, first, second = two_pages
    async with holding(engine, *saving(notebook_id, first)) as holder:
        move = asyncio.create_task(
            client.put(f"/pages/{second}", headers=writer.headers, json={"position": 1})
        )
        await wait_for_a_row_lock_wait(engine)
        assert not move.done()
        await holder.rollback()
    response = await move
    assert response.status_code == 200 and (await response.get_json())["position"] == 1


@mariadb_only
async def test_a_save_waits_for_a_creation_move_or_deletion_holding_the_notebook(
    client, writer, two_pages, engine, backend
):
    notebook_id, _, second = two_pages
    async with holding(engine, f"SELECT id FROM notebooks WHERE id = {notebook_id} FOR UPDATE") as holder:
        save = asyncio.create_task(
            client.put(f"/pages/{second}", headers=writer.headers, json={"content": slate("c")})
        )
        await wait_for_a_row_lock_wait(engine)
        assert not save.done()
        await holder.rollback()
    assert (await save).status_code == 200


async def test_a_save_moves_its_notebooks_updated_at(client, writer, two_pages):
    notebook_id, first, _ = two_pages
    response = await client.put(f"/pages/{first}", headers=writer.headers, json={"content": slate("nuevo")})
    saved = await response.get_json()
    assert await notebook_updated_at(client, writer, notebook_id) == saved["updated_at"]


async def test_saves_within_the_lag_leave_updated_at_at_the_first_and_a_later_one_moves_it(
    client, writer, two_pages, monkeypatch
):
    notebook_id, first, second = two_pages
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 3600.0)
    put = client.put
    first_save = await (await put(f"/pages/{first}", headers=writer.headers, json={"title": "A"})).get_json()
    await put(f"/pages/{second}", headers=writer.headers, json={"title": "B"})
    assert await notebook_updated_at(client, writer, notebook_id) == first_save["updated_at"]
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 0.0)
    last = await (await put(f"/pages/{second}", headers=writer.headers, json={"title": "C"})).get_json()
    assert await notebook_updated_at(client, writer, notebook_id) == last["updated_at"]


@mariadb_only
async def test_a_touch_that_innodb_refuses_to_end_a_deadlock_is_sent_again(
    client, writer, two_pages, engine, backend, monkeypatch
):
    notebook_id, first, second = two_pages
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 0.0)
    # A transaction that has written a row and holds the notebook shared, as a group of saves does.
    held = (f"UPDATE pages SET title = 'held' WHERE id = {first}", *saving(notebook_id, first)[:1])
    async with holding(engine, *held) as holder:
        save = asyncio.create_task(
            client.put(f"/pages/{second}", headers=writer.headers, json={"content": slate("d")})
        )
        await wait_for_a_row_lock_wait(engine)  # the save's touch, behind the shared lock
        # Taking the notebook whole closes the cycle; InnoDB refuses the touch, which wrote nothing.
        await holder.execute(text(f"UPDATE notebooks SET title = title WHERE id = {notebook_id}"))
        await wait_for_a_row_lock_wait(engine)  # the touch again, behind this transaction
        await holder.rollback()
    response = await save
    assert response.status_code == 200
    assert await notebook_updated_at(client, writer, notebook_id) == (await response.get_json())["updated_at"]
