"""A save of title or content writes the page as last committed in one statement that checks it,
and answers exactly as the locked read would whenever that statement writes nothing: a stale
base is 412, another author's page 403 or 404, a page moved meanwhile its new position.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sinpluma_async.pages import write_locks
from tests.support import (
    WAIT_SECONDS,
    count_commands_sent,
    create_notebook,
    create_page,
    problem,
    publish_notebook,
    publish_page,
    slate,
    wait_for_a_row_lock_wait,
)

CONCURRENT_SAVES = 12


async def editor(client, account, page_id):
    response = await client.get(f"/pages/{page_id}?mode=editor", headers=account.headers)
    return await response.get_json()


@pytest.fixture
async def page(client, writer):
    notebook = await create_notebook(client, writer)
    return await create_page(client, writer, notebook["notebook_id"], title="Uno", content=slate("uno"))


async def test_a_save_from_the_current_version_answers_with_the_next_one(client, writer, page):
    path = f"/pages/{page['page_id']}"
    by_header = await client.put(
        path, headers={**writer.headers, "If-Match": '"1"'}, json={"content": slate("dos")}
    )
    by_body = await client.put(path, headers=writer.headers, json={"title": "Tres", "base_version": 2})
    assert by_header.status_code == by_body.status_code == 200
    assert by_header.headers["ETag"] == '"2"' and by_body.headers["ETag"] == '"3"'
    assert (await by_header.get_json())["title"] == "Uno"
    saved = await by_body.get_json()
    assert {key: saved[key] for key in ("page_id", "version", "title", "position")} == {
        "page_id": page["page_id"],
        "version": 3,
        "title": "Tres",
        "position": 1,
    }
    current = await editor(client, writer, page["page_id"])
    assert (current["version"], current["title"], current["content"]) == (3, "Tres", slate("dos"))


async def test_a_stale_base_is_412_with_the_current_version_and_writes_nothing(client, writer, page):
    path = f"/pages/{page['page_id']}"
    await client.put(path, headers=writer.headers, json={"content": slate("dos")})
    stale = await client.put(
        path, headers={**writer.headers, "If-Match": '"1"'}, json={"content": slate("viejo")}
    )
    assert (await problem(stale, 412, "version_conflict"))["current_version"] == 2
    ahead = await client.put(path, headers=writer.headers, json={"title": "x", "base_version": 9})
    assert (await problem(ahead, 412, "version_conflict"))["current_version"] == 2
    current = await editor(client, writer, page["page_id"])
    assert (current["version"], current["title"], current["content"]) == (2, "Uno", slate("dos"))


async def test_a_save_of_a_page_not_the_viewers_is_404_or_403_whatever_its_base(client, writer, reader, page):
    path = f"/pages/{page['page_id']}"
    for headers in (reader.headers, {**reader.headers, "If-Match": '"1"'}):
        await problem(await client.put(path, headers=headers, json={"title": "mío"}), 404, "not_found")
    await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, page["notebook_id"])
    for headers in (reader.headers, {**reader.headers, "If-Match": '"1"'}):
        await problem(await client.put(path, headers=headers, json={"title": "mío"}), 403, "forbidden")
    missing = await client.put(
        "/pages/999999", headers={**writer.headers, "If-Match": '"1"'}, json={"title": "x"}
    )
    await problem(missing, 404, "not_found")
    assert (await editor(client, writer, page["page_id"]))["title"] == "Uno"


async def test_concurrent_saves_of_one_page_go_up_by_one_version_each(client, writer, page):
    path = f"/pages/{page['page_id']}"
    responses = await asyncio.gather(
        *(
            client.put(path, headers=writer.headers, json={"content": slate(f"save {number}")})
            for number in range(CONCURRENT_SAVES)
        )
    )
    assert [response.status_code for response in responses] == [200] * CONCURRENT_SAVES
    versions = sorted([(await response.get_json())["version"] for response in responses])
    assert versions == list(range(2, CONCURRENT_SAVES + 2))
    assert (await editor(client, writer, page["page_id"]))["version"] == CONCURRENT_SAVES + 1


async def test_concurrent_saves_from_one_base_write_once_and_conflict_otherwise(client, writer, page):
    path = f"/pages/{page['page_id']}"
    headers = {**writer.headers, "If-Match": '"1"'}
    responses = await asyncio.gather(
        *(
            client.put(path, headers=headers, json={"content": slate(f"save {number}")})
            for number in range(CONCURRENT_SAVES)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (CONCURRENT_SAVES - 1)
    for response in responses:
        if response.status_code == 412:
            assert (await problem(response, 412, "version_conflict"))["current_version"] == 2
    assert (await editor(client, writer, page["page_id"]))["version"] == 2


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_save_waiting_for_a_move_answers_the_position_the_move_gave_it(client, writer, backend):
    notebook_id = (await create_notebook(client, writer))["notebook_id"]
    first = (await create_page(client, writer, notebook_id, title="Uno"))["page_id"]
    second = (await create_page(client, writer, notebook_id, title="Dos"))["page_id"]
    engine = create_async_engine(backend.settings.database_url)
    try:
        async with engine.connect() as mover:  # a move of the first page, halfway: positions change
            await mover.execute(text(f"SELECT id FROM notebooks WHERE id = {notebook_id} FOR UPDATE"))
            for page_id, position in ((first, 3), (second, 1), (first, 2)):
                await mover.execute(text(f"UPDATE pages SET position = {position} WHERE id = {page_id}"))
            save = asyncio.create_task(
                client.put(f"/pages/{second}", headers=writer.headers, json={"content": slate("dos")})
            )
            await wait_for_a_row_lock_wait(engine)
            await mover.commit()
        async with asyncio.timeout(WAIT_SECONDS):
            response = await save
    finally:
        await engine.dispose()
    saved = await response.get_json()
    assert response.status_code == 200 and (saved["position"], saved["version"]) == (1, 2)


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_save_of_a_page_is_one_round_trip_to_the_database(client, writer, page, monkeypatch):
    # The first save moves the notebook's updated_at; with the lag long, the next one does not.
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 3600)
    url = f"/pages/{page['page_id']}"
    first = await client.put(url, headers=writer.headers, json={"content": slate("dos")})
    assert first.status_code == 200
    sent = count_commands_sent(monkeypatch)
    headers = {**writer.headers, "If-Match": first.headers["ETag"]}
    response = await client.put(url, headers=headers, json={"content": slate("tres")})
    assert response.status_code == 200
    assert len(sent) == 1, sent  # share the notebook, write, read the page as saved, commit: together
    assert " ".join(sent[0].split()).startswith("BEGIN;SELECT notebooks.author_id"), sent


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_save_that_moves_its_notebooks_updated_at_takes_one_round_trip_more(
    client, writer, page, monkeypatch
):
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 0.0)
    url = f"/pages/{page['page_id']}"
    first = await client.put(url, headers=writer.headers, json={"content": slate("dos")})
    assert first.status_code == 200  # and the pools hold their connections, opened
    sent = count_commands_sent(monkeypatch)
    response = await client.put(url, headers=writer.headers, json={"content": slate("tres")})
    assert response.status_code == 200
    assert len(sent) == 2, sent  # the save's one, then the notebook's touch, committed as it runs
    assert sent[-1].startswith("UPDATE notebooks SET updated_at"), sent
    saved = await response.get_json()
    notebook = await client.get(f"/notebooks/{page['notebook_id']}", headers=writer.headers)
    assert (await notebook.get_json())["updated_at"] == saved["updated_at"]


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_socket_save_from_its_last_revision_is_one_round_trip(client, writer, page, monkeypatch):
    monkeypatch.setattr(write_locks, "TOUCH_LAG_S", 3600)
    page_id = page["page_id"]

    async def save(socket, seq: int, text: str) -> dict:
        message = {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate(text)}
        await socket.send(json.dumps(message))
        return json.loads(await asyncio.wait_for(socket.receive(), WAIT_SECONDS))

    async with client.websocket("/ws/autosave") as socket:
        await socket.send(json.dumps({"type": "auth", "token": writer.access_token}))
        assert json.loads(await asyncio.wait_for(socket.receive(), WAIT_SECONDS))["type"] == "ready"
        assert (await save(socket, 1, "uno"))["version"] == 2
        sent = count_commands_sent(monkeypatch)
        assert (await save(socket, 2, "dos"))["version"] == 3
    assert len(sent) == 1, sent  # the notebook's lock shared, the write and the commit, together
    assert " ".join(sent[0].split()).startswith("BEGIN;SELECT notebooks.id FROM notebooks"), sent
    stored = await editor(client, writer, page_id)
    assert (stored["content"], stored["version"]) == (slate("dos"), 3)
