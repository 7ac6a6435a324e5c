"""Reader copies: a process serves a page's reader-mode answer again from its copy, and never once a
committed write has changed what the page's readers see.

On MariaDB + Redis the reads go to a second app (another process's runtime: its own copies, the same
database and Redis), so what is checked is that a write made through one process reaches the copies
of another. On SQLite (embedded mode, one process) both go to the same app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import text

from sinpluma_async import create_app
from tests.observability.metrics_support import scrape, value
from tests.support import create_notebook, create_page, publish_notebook, publish_page, slate

SERVED = "sinpluma_reader_copies_total"


@pytest.fixture
async def readers_app(backend, settings, app) -> AsyncIterator[Quart]:
    if backend.name == "sqlite":
        yield app
        return
    other = create_app(settings)
    async with other.test_app():
        yield other


@pytest.fixture
def readers(readers_app):
    return readers_app.test_client()


@pytest.fixture
async def shelf(client, writer):
    """A published notebook with two published pages; (notebook_id, first page_id, second page_id)."""
    notebook = await create_notebook(client, writer)
    pages = [
        await create_page(client, writer, notebook["notebook_id"], title=title, content=slate(title))
        for title in ("Uno", "Dos")
    ]
    for page in pages:
        await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    return notebook["notebook_id"], pages[0]["page_id"], pages[1]["page_id"]


async def served(client) -> float:
    return value(await scrape(client), SERVED, result="served")


async def read_from_the_copy(client, page_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """Read the page until its copy is served (the copy is kept at the first read, and its
    generation known from the second); the answer the copy gave."""
    for _ in range(3):
        before = await served(client)
        response = await client.get(f"/pages/{page_id}", headers=headers)
        assert response.status_code == 200
        if await served(client) == before + 1:
            body: dict[str, Any] = await response.get_json()
            return body
    raise AssertionError("the page's copy was never served")


async def test_a_page_read_again_is_served_from_the_copy_with_the_same_answer(
    client, readers, writer, reader, shelf
):
    _, first, _ = shelf
    fresh = await (await client.get(f"/pages/{first}", headers=reader.headers)).get_json()
    assert await read_from_the_copy(readers, first, reader.headers) == fresh
    anonymous = await readers.get(f"/pages/{first}")
    assert await anonymous.get_json() == fresh
    assert anonymous.headers["Cache-Control"] == "public, no-cache"


async def test_a_draft_save_keeps_the_copy_and_readers_keep_the_published_copy(
    client, readers, writer, reader, shelf
):
    _, first, _ = shelf
    await read_from_the_copy(readers, first, reader.headers)
    saved = await client.put(f"/pages/{first}", headers=writer.headers, json={"content": slate("Borrador")})
    assert saved.status_code == 200
    assert (await read_from_the_copy(readers, first, reader.headers))["content"] == slate("Uno")


Change = Callable[[Any, Any, tuple[int, int, int]], Awaitable[Any]]


async def republish(client, writer, shelf):
    await client.put(f"/pages/{shelf[1]}", headers=writer.headers, json={"content": slate("Otra")})
    await publish_page(client, writer, shelf[1])


async def unpublish(client, writer, shelf):
    return await client.delete(f"/pages/{shelf[1]}/publish", headers=writer.headers)


async def delete_page(client, writer, shelf):
    return await client.delete(f"/pages/{shelf[1]}", headers=writer.headers)


async def move_the_next_page_first(client, writer, shelf):
    return await client.put(f"/pages/{shelf[2]}", headers=writer.headers, json={"position": 1})


async def notebook_back_to_draft(client, writer, shelf):
    return await client.put(f"/notebooks/{shelf[0]}", headers=writer.headers, json={"status": "draft"})


async def delete_notebook(client, writer, shelf):
    return await client.delete(f"/notebooks/{shelf[0]}", headers=writer.headers)


def found(content: list[Any] | None = None, position: int = 1) -> Callable[[int, Any], bool]:
    return lambda status, body: (
        status == 200 and body["position"] == position and (content is None or body["content"] == content)
    )


def gone(status: int, body: Any) -> bool:
    return status == 404


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        pytest.param(republish, found(slate("Otra")), id="republished"),
        pytest.param(unpublish, gone, id="unpublished"),
        pytest.param(delete_page, gone, id="page-deleted"),
        pytest.param(move_the_next_page_first, found(slate("Uno"), position=2), id="moved"),
        pytest.param(notebook_back_to_draft, gone, id="notebook-in-draft"),
        pytest.param(delete_notebook, gone, id="notebook-deleted"),
    ],
)
async def test_a_write_that_changes_what_readers_see_is_seen_at_once(
    client, readers, writer, reader, shelf, change: Change, seen
):
    await read_from_the_copy(readers, shelf[1], reader.headers)
    await read_from_the_copy(readers, shelf[1], {})
    done = await change(client, writer, shelf)
    assert done is None or done.status_code < 300
    for headers in (reader.headers, {}):
        response = await readers.get(f"/pages/{shelf[1]}", headers=headers)
        body = await response.get_json()
        assert seen(response.status_code, body), (response.status_code, body)


async def test_the_author_still_reads_a_page_of_a_notebook_back_in_draft(client, readers, writer, shelf):
    await read_from_the_copy(readers, shelf[1], writer.headers)
    await notebook_back_to_draft(client, writer, shelf)
    response = await readers.get(f"/pages/{shelf[1]}", headers=writer.headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # no longer shared with anyone
    assert "ETag" not in response.headers


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_generation_redis_lost_is_started_again_and_never_matches_an_old_copy(
    app, readers_app, readers, reader, shelf
):
    """Redis restarted empty: the copies every process holds were read under generations gone."""
    await read_from_the_copy(readers, shelf[1], reader.headers)
    runtime = app.extensions["sinpluma"]
    async with runtime.database.writer.begin() as connection:  # a write that renews nothing
        await connection.execute(
            text("UPDATE pages SET published_title = 'Perdido' WHERE id = :id"), {"id": shelf[1]}
        )
    keys = [key async for key in runtime.redis.scan_iter(f"{runtime.settings.redis_key_prefix}generation:*")]
    assert keys and await runtime.redis.delete(*keys) == len(keys)
    response = await readers.get(f"/pages/{shelf[1]}", headers=reader.headers)
    assert (await response.get_json())["title"] == "Perdido"


async def test_a_reader_refused_while_the_notebook_was_a_draft_reads_it_once_published(
    client, readers, writer, reader
):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno", content=slate("Uno"))
    await publish_page(client, writer, page["page_id"])
    for _ in range(3):  # the refusals are read from the copy, once its generation is known
        assert (await readers.get(f"/pages/{page['page_id']}", headers=reader.headers)).status_code == 404
    await publish_notebook(client, writer, notebook["notebook_id"])
    response = await readers.get(f"/pages/{page['page_id']}", headers=reader.headers)
    assert response.status_code == 200 and (await response.get_json())["content"] == slate("Uno")
