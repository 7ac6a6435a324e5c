"""Read-your-writes against a read endpoint that never catches up (API.md, "Read replicas").

The read URL here is a second, migrated database that nothing replicates into: whatever a read
finds there shows which endpoint it went to. A real, lagging replica is in tests/replication.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from sinpluma_async.config import Settings
from sinpluma_async.db.engines import create_engine
from tests.conftest import Backend
from tests.support import create_notebook, create_page, publish_notebook, slate, wait_until

WRITTEN_TABLES = ("users", "auth_sessions", "notebooks", "pages")
# Short, so that windows pass within a test; long enough for a write and the read after it.
WINDOW_SECONDS = 2


@pytest.fixture
def frozen_read_url(backend: Backend, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A read endpoint with the schema and none of the data: a replica that never catches up."""
    if backend.name == "mariadb":
        return str(request.getfixturevalue("second_mariadb_url"))
    replica = tmp_path / "replica.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), replica)
    return f"sqlite+aiosqlite:///{replica}"


@pytest.fixture
def settings(backend: Backend, frozen_read_url: str) -> Settings:
    return replace(
        backend.settings, database_read_url=frozen_read_url, read_your_writes_seconds=WINDOW_SECONDS
    )


async def rows_in(url: str, table: str) -> int:
    engine = create_engine(url, autocommit=True)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
    finally:
        await engine.dispose()


async def test_a_writer_reads_their_new_notebook_while_the_replica_lacks_it(client, writer):
    notebook = await create_notebook(client, writer, title="Recién escrito")

    response = await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)

    assert response.status_code == 200
    assert (await response.get_json())["title"] == "Recién escrito"


async def test_a_writer_reads_their_own_profile_right_after_logging_in(client, writer):
    response = await client.get(f"/user/{writer.username}", headers=writer.headers)

    assert response.status_code == 200
    assert (await response.get_json())["email"] == writer.email


async def test_anonymous_reads_go_to_the_read_endpoint(client, writer):
    notebook = await create_notebook(client, writer)
    await publish_notebook(client, writer, notebook["notebook_id"])

    anonymous = await client.get(f"/notebooks/{notebook['notebook_id']}")
    listed = await client.get("/notebooks/?scope=public")

    assert anonymous.status_code == 404
    assert (await listed.get_json())["total"] == 0


async def test_a_user_who_has_not_written_reads_the_read_endpoint(client, writer, reader):
    notebook = await create_notebook(client, writer)
    await publish_notebook(client, writer, notebook["notebook_id"])

    async def reader_reads_the_replica() -> bool:
        # The reader's own login counts as a write until their window has passed.
        response = await client.get(f"/notebooks/{notebook['notebook_id']}", headers=reader.headers)
        return response.status_code == 404

    await wait_until(reader_reads_the_replica)


async def test_reads_return_to_the_read_endpoint_once_the_window_passes(client, writer):
    notebook = await create_notebook(client, writer)
    path = f"/notebooks/{notebook['notebook_id']}"
    assert (await client.get(path, headers=writer.headers)).status_code == 200

    async def writer_reads_the_replica() -> bool:
        return (await client.get(path, headers=writer.headers)).status_code == 404

    await wait_until(writer_reads_the_replica)


async def test_nothing_is_written_through_the_read_url(app, client, writer):
    notebook = await create_notebook(client, writer)
    await publish_notebook(client, writer, notebook["notebook_id"])
    await client.post("/pages/", headers=writer.headers, json={"notebook_id": notebook["notebook_id"]})
    await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
    await client.delete("/user/logout", headers=writer.headers)

    read_url = app.extensions["sinpluma"].settings.database_read_url
    assert [await rows_in(read_url, table) for table in WRITTEN_TABLES] == [0] * len(WRITTEN_TABLES)


async def test_a_save_over_the_socket_sends_the_writers_reads_to_the_writer(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])
    path = f"/pages/{page['page_id']}?mode=editor"

    async def writer_reads_the_replica() -> bool:
        return (await client.get(path, headers=writer.headers)).status_code == 404

    await wait_until(writer_reads_the_replica)
    async with client.websocket("/ws/autosave") as socket:
        await socket.send(json.dumps({"type": "auth", "token": writer.access_token}))
        await socket.receive()
        save = {"type": "save", "page_id": page["page_id"], "client_seq": 1, "content": slate("Guardado")}
        await socket.send(json.dumps(save))
        ack = json.loads(await asyncio.wait_for(socket.receive(), 10))
    response = await client.get(path, headers=writer.headers)

    assert ack["type"] == "ack" and ack["version"] == 2
    assert response.status_code == 200 and (await response.get_json())["version"] == 2


async def test_a_socket_subscribes_to_a_page_created_a_moment_ago(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])

    async with client.websocket("/ws/autosave") as socket:
        await socket.send(json.dumps({"type": "auth", "token": writer.access_token}))
        await socket.receive()
        await socket.send(json.dumps({"type": "subscribe", "page_id": page["page_id"]}))
        subscribed = json.loads(await asyncio.wait_for(socket.receive(), 10))

    assert subscribed == {"type": "subscribed", "page_id": page["page_id"], "version": 1}
