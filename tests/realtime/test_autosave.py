"""The autosave websocket, through the app's own test client, on both backends."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import jwt
import pytest
from quart.testing.connections import WebsocketDisconnectError
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from sinpluma_async import create_app
from sinpluma_async.realtime import page_writer
from tests.support import (
    create_notebook,
    create_page,
    login,
    make_account,
    slate,
    wait_for_a_row_lock_wait,
    wait_until,
)

TIMEOUT = 10


@pytest.fixture
async def page(client, writer):
    notebook = await create_notebook(client, writer)
    return await create_page(client, writer, notebook["notebook_id"], title="Uno")


async def send(socket, message):
    await socket.send(json.dumps(message))


async def receive(socket):
    return json.loads(await asyncio.wait_for(socket.receive(), TIMEOUT))


async def receive_until(socket, kind):
    while (message := await receive(socket))["type"] != kind:
        pass
    return message


async def close_code(socket):
    with pytest.raises(WebsocketDisconnectError) as closed:
        while True:
            await asyncio.wait_for(socket.receive(), TIMEOUT)
    return closed.value.args[0]


async def authenticated(socket, account):
    await send(socket, {"type": "auth", "token": account.access_token})
    return await receive(socket)


async def editor_page(client, account, page_id):
    return await (await client.get(f"/pages/{page_id}?mode=editor", headers=account.headers)).get_json()


async def test_auth_answers_ready_with_user_and_expiry(client, writer):
    async with client.websocket("/ws/autosave") as socket:
        ready = await authenticated(socket, writer)
    assert ready["type"] == "ready" and ready["user_id"] == writer.user_id
    assert ready["expires_at"].endswith("Z")


async def test_bad_token_closes_with_4401(client):
    async with client.websocket("/ws/autosave") as socket:
        await send(socket, {"type": "auth", "token": "not-a-token"})
        assert await close_code(socket) == 4401


async def test_first_message_other_than_auth_closes_with_4401(client, writer):
    async with client.websocket("/ws/autosave") as socket:
        await send(socket, {"type": "ping"})
        assert await close_code(socket) == 4401


async def test_no_auth_in_time_closes_with_4408(settings):
    app = create_app(replace(settings, websocket_auth_seconds=0.2))
    async with app.test_app(), app.test_client().websocket("/ws/autosave") as socket:
        assert await close_code(socket) == 4408


async def test_refresh_token_is_refused(client, writer):
    async with client.websocket("/ws/autosave") as socket:
        await send(socket, {"type": "auth", "token": writer.refresh_token})
        assert await close_code(socket) == 4401


async def test_save_is_acked_after_it_is_stored(client, writer, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await send(
            socket, {"type": "save", "page_id": page["page_id"], "client_seq": 17, "content": slate("hola")}
        )
        ack = await receive(socket)
    assert ack["type"] == "ack" and ack["client_seq"] == 17 and ack["page_id"] == page["page_id"]
    assert ack["version"] == 2 and ack["saved_at"].endswith("Z")
    stored = await editor_page(client, writer, page["page_id"])
    assert stored["content"] == slate("hola") and stored["version"] == 2


async def test_save_with_title_and_matching_base_version(client, writer, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        message = {"type": "save", "page_id": page["page_id"], "client_seq": 1, "content": slate("a")}
        await send(socket, {**message, "title": "Nuevo", "base_version": 1})
        assert (await receive(socket))["version"] == 2
    assert (await editor_page(client, writer, page["page_id"]))["title"] == "Nuevo"


async def test_stale_base_version_is_a_conflict_and_writes_nothing(client, writer, page):
    await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"content": slate("rest")})
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        message = {"type": "save", "page_id": page["page_id"], "client_seq": 5, "content": slate("ws")}
        await send(socket, {**message, "base_version": 1})
        conflict = await receive(socket)
    assert conflict == {"type": "conflict", "page_id": page["page_id"], "client_seq": 5, "current_version": 2}
    assert (await editor_page(client, writer, page["page_id"]))["content"] == slate("rest")


async def test_save_of_someone_elses_page_is_an_error_and_the_socket_stays(client, writer, reader, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, reader)
        await send(
            socket, {"type": "save", "page_id": page["page_id"], "client_seq": 3, "content": slate("x")}
        )
        error = await receive(socket)
        await send(socket, {"type": "ping"})
        pong = await receive(socket)
    assert error["type"] == "error" and error["client_seq"] == 3 and error["status"] == 404
    assert error["code"] == "not_found" and error["detail"]
    assert pong == {"type": "pong"}
    assert (await editor_page(client, writer, page["page_id"]))["version"] == 1


@pytest.mark.parametrize(
    "message",
    [
        {"type": "save", "page_id": 1, "client_seq": 1, "content": {"text": "not a list"}},
        {"type": "save", "page_id": 1, "client_seq": 1, "content": [{"type": "p"}]},
        {"type": "save", "page_id": "1", "client_seq": 1, "content": []},
        {"type": "save", "page_id": 1, "content": []},
        {"type": "save", "page_id": 1, "client_seq": 1, "content": [], "version": 9},
        {"type": "save", "page_id": 1, "client_seq": 1, "content": [], "title": "x" * 101},
        {"type": "dance"},
        ["not", "an", "object"],
    ],
)
async def test_invalid_message_is_a_400_error_and_the_socket_stays(client, writer, page, message):
    if isinstance(message, dict) and message.get("page_id") == 1:
        message = {**message, "page_id": page["page_id"]}
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await send(socket, message)
        error = await receive(socket)
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
    assert error["type"] == "error" and error["status"] == 400 and error["code"] == "validation_error"
    assert (await editor_page(client, writer, page["page_id"]))["version"] == 1


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        '{"type": "save", "page_id": PAGE, "client_seq": 1, "content": [{"text": "a", "size": NaN}]}',
        '{"type": "save", "page_id": PAGE, "client_seq": 1, "content": [{"text": "\\ud800"}]}',
        '{"type": "save", "page_id": PAGE, "client_seq": 1, "content": [{"text": "a", "size": 1e400}]}',
        '{"type": "save", "page_id": PAGE, "client_seq": 1,'
        ' "content": [{"text": "a", "n": 1234567890123456789012, "size": -1e999}]}',
    ],
    ids=["malformed", "nan", "lone-surrogate", "float-overflow", "float-overflow-with-long-integer"],
)
async def test_message_that_is_not_strict_json_is_a_400_error_and_nothing_is_saved(client, writer, page, raw):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await socket.send(raw.replace("PAGE", str(page["page_id"])))
        error = await receive(socket)
    assert error["type"] == "error" and error["status"] == 400 and error["client_seq"] is None
    assert (await editor_page(client, writer, page["page_id"]))["version"] == 1


async def test_escaped_surrogate_pair_is_saved_as_the_character(client, writer, page):
    raw = '{"type": "save", "page_id": PAGE, "client_seq": 1, "content": [{"text": "\\ud83d\\udcda"}]}'
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await socket.send(raw.replace("PAGE", str(page["page_id"])))
        assert (await receive(socket))["type"] == "ack"
    assert (await editor_page(client, writer, page["page_id"]))["content"] == [{"text": "📚"}]


async def test_more_than_20_saves_a_second_is_429(client, writer, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        for seq in range(25):
            await send(
                socket,
                {"type": "save", "page_id": page["page_id"], "client_seq": seq, "content": slate(str(seq))},
            )
        answers = [await receive(socket) for _ in range(25)]
    limited = [answer for answer in answers if answer["type"] == "error"]
    assert limited and all(answer["status"] == 429 and answer["code"] == "rate_limited" for answer in limited)
    assert len([answer for answer in answers if answer["type"] == "ack"]) == 20


async def test_rapid_saves_are_coalesced_and_every_seq_is_acked(client, writer, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        for seq in range(1, 16):
            await send(
                socket,
                {"type": "save", "page_id": page["page_id"], "client_seq": seq, "content": slate(str(seq))},
            )
        acks = [await receive(socket) for _ in range(15)]
    assert sorted(ack["client_seq"] for ack in acks) == list(range(1, 16))
    by_seq = {ack["client_seq"]: ack["version"] for ack in acks}
    assert [by_seq[seq] for seq in range(1, 16)] == sorted(by_seq[seq] for seq in range(1, 16))
    stored = await editor_page(client, writer, page["page_id"])
    assert stored["content"] == slate("15") and stored["version"] == by_seq[15]
    assert stored["version"] <= 16


async def test_every_coalesced_seq_is_acked_with_a_version_holding_it_or_a_newer_save(client, writer, page):
    # Each save carries its own title, and page.updated tells which title each version holds.
    async with client.websocket("/ws/autosave") as watcher, client.websocket("/ws/autosave") as editor:
        await authenticated(watcher, writer)
        await authenticated(editor, writer)
        await send(watcher, {"type": "subscribe", "page_id": page["page_id"]})
        await receive(watcher)
        for seq in range(1, 16):
            await send(
                editor,
                {
                    "type": "save",
                    "page_id": page["page_id"],
                    "client_seq": seq,
                    "content": slate(str(seq)),
                    "title": f"t{seq}",
                },
            )
        acks = [await receive(editor) for _ in range(15)]
        written_seq = {}
        while len(written_seq) < len({ack["version"] for ack in acks}):
            update = await receive(watcher)
            written_seq[update["version"]] = int(update["title"][1:])
    for ack in acks:
        assert written_seq[ack["version"]] >= ack["client_seq"], ack


async def test_a_save_failing_unexpectedly_is_answered_and_the_next_one_succeeds(
    client, writer, page, monkeypatch
):
    real_save = page_writer.save_draft
    calls = 0

    async def failing_once(**kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return await real_save(**kwargs)

    monkeypatch.setattr(page_writer, "save_draft", failing_once)
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        message = {"type": "save", "page_id": page["page_id"], "client_seq": 1, "content": slate("a")}
        await send(socket, message)
        assert await receive(socket) == {
            "type": "error",
            "client_seq": 1,
            "status": 500,
            "code": "internal_error",
            "detail": "The server failed to save this change",
        }
        await send(socket, {**message, "client_seq": 2})
        ack = await receive(socket)
        assert (ack["type"], ack["client_seq"], ack["version"]) == ("ack", 2, 2)
    assert (await editor_page(client, writer, page["page_id"]))["content"] == slate("a")


async def test_a_save_after_the_page_changed_elsewhere_starts_from_the_page_as_it_is(client, writer, page):
    page_id = page["page_id"]
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await send(socket, {"type": "save", "page_id": page_id, "client_seq": 1, "content": slate("a")})
        assert (await receive(socket))["version"] == 2
        await client.put(f"/pages/{page_id}", headers=writer.headers, json={"title": "Desde REST"})
        await send(socket, {"type": "save", "page_id": page_id, "client_seq": 2, "content": slate("b")})
        assert (await receive(socket))["version"] == 4
        stale = {
            "type": "save",
            "page_id": page_id,
            "client_seq": 3,
            "content": slate("c"),
            "base_version": 2,
        }
        await send(socket, stale)
        assert await receive(socket) == {
            "type": "conflict",
            "page_id": page_id,
            "client_seq": 3,
            "current_version": 4,
        }
        await client.delete(f"/pages/{page_id}", headers=writer.headers)
        await send(socket, {"type": "save", "page_id": page_id, "client_seq": 4, "content": slate("d")})
        gone = await receive(socket)
        assert (gone["type"], gone["client_seq"], gone["status"]) == ("error", 4, 404)


async def test_a_page_saved_again_and_again_keeps_what_rest_changed_between(client, writer, page):
    page_id = page["page_id"]
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        for seq in range(1, 4):
            await send(
                socket, {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate(str(seq))}
            )
            await receive(socket)
        await client.put(f"/pages/{page_id}", headers=writer.headers, json={"title": "Nuevo"})
        await send(socket, {"type": "save", "page_id": page_id, "client_seq": 4, "content": slate("4")})
        assert (await receive(socket))["version"] == 6
    stored = await editor_page(client, writer, page_id)
    assert (stored["title"], stored["content"], stored["version"]) == ("Nuevo", slate("4"), 6)


async def test_socket_saves_alongside_moves_deletes_and_publishing_never_deadlock(client, writer):
    notebook_id = (await create_notebook(client, writer))["notebook_id"]
    page_ids = [(await create_page(client, writer, notebook_id, title=str(n)))["page_id"] for n in range(16)]
    deleted, moved, written = page_ids[:4], page_ids[4:8], page_ids[8:]
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        # A first save of each page, so that the next ones start from a known revision.
        for page_id in written:
            await send(
                socket, {"type": "save", "page_id": page_id, "client_seq": page_id, "content": slate("0")}
            )
            assert (await receive(socket))["type"] == "ack"

        async def save_all() -> list[dict]:
            for page_id in written:
                message = {"type": "save", "page_id": page_id, "client_seq": 1000 + page_id}
                await send(socket, {**message, "content": slate("1")})
            return [await receive(socket) for _ in written]

        operations = [client.delete(f"/pages/{page_id}", headers=writer.headers) for page_id in deleted]
        operations += [
            client.put(f"/pages/{page_id}", headers=writer.headers, json={"position": 1 + index})
            for index, page_id in enumerate(moved)
        ]
        operations += [
            client.post(f"/pages/{page_id}/publish", headers=writer.headers) for page_id in written
        ]
        answers, *responses = await asyncio.gather(save_all(), *operations)
    assert {answer["type"] for answer in answers} == {"ack"}
    assert {answer["version"] for answer in answers} == {3}
    assert [response.status_code for response in responses[:4]] == [204] * 4
    assert set(response.status_code for response in responses[4:]) <= {200, 400}
    for page_id in written:
        assert (await editor_page(client, writer, page_id))["content"] == slate("1")


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)  # SQLite locks the whole database
async def test_a_socket_save_locks_the_notebook_before_the_page(client, writer, page, backend):
    # Every page write takes its notebook's row lock first; the order is what keeps saves,
    # moves and deletes of one notebook from deadlocking.
    page_id, notebook_id = page["page_id"], page["notebook_id"]
    engine = create_async_engine(backend.settings.database_url)
    try:
        async with client.websocket("/ws/autosave") as socket:
            await authenticated(socket, writer)
            for seq in (1, 2):  # the second save starts from the first one's revision
                async with engine.connect() as holder:
                    await holder.execute(text(f"SELECT id FROM pages WHERE id = {page_id} FOR UPDATE"))
                    message = {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate("a")}
                    await send(socket, message)
                    await wait_for_a_row_lock_wait(engine)
                    async with engine.connect() as probe:
                        with pytest.raises(OperationalError):
                            await probe.execute(
                                text(f"SELECT id FROM notebooks WHERE id = {notebook_id} FOR UPDATE NOWAIT")
                            )
                    await holder.rollback()
                assert (await receive(socket))["version"] == seq + 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_save_on_a_dropped_database_connection_is_a_503_and_the_next_one_succeeds(
    client, writer, page, backend
):
    page_id = page["page_id"]
    admin = create_async_engine(backend.settings.database_url)
    try:
        async with client.websocket("/ws/autosave") as socket:
            await authenticated(socket, writer)
            message = {"type": "save", "page_id": page_id, "content": slate("a")}
            await send(socket, {**message, "client_seq": 1})
            assert (await receive(socket))["version"] == 2
            async with admin.connect() as connection:
                others = await connection.execute(
                    text(
                        "SELECT id FROM information_schema.processlist"
                        " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
                    )
                )
                for (connection_id,) in others.all():
                    await connection.execute(text(f"KILL {connection_id}"))
            await send(socket, {**message, "client_seq": 2})
            error = await receive(socket)
            assert (error["type"], error["client_seq"], error["status"]) == ("error", 2, 503)
            assert error["code"] == "service_unavailable"
            await send(socket, {**message, "client_seq": 3, "content": slate("b")})
            assert (await receive(socket))["version"] == 3
        async with admin.connect() as connection:
            stored = await connection.execute(text(f"SELECT content FROM pages WHERE id = {page_id}"))
            assert json.loads(stored.scalar_one()) == slate("b")
    finally:
        await admin.dispose()


async def test_coalesced_saves_with_the_same_base_version_do_not_conflict(client, writer, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        for seq in range(1, 6):
            message = {
                "type": "save",
                "page_id": page["page_id"],
                "client_seq": seq,
                "content": slate(str(seq)),
            }
            await send(socket, {**message, "base_version": 1})
        answers = [await receive(socket) for _ in range(5)]
    assert {answer["type"] for answer in answers} == {"ack"}
    assert (await editor_page(client, writer, page["page_id"]))["content"] == slate("5")


async def test_subscriber_hears_saves_from_other_connections_and_rest(client, writer, page):
    async with client.websocket("/ws/autosave") as watcher, client.websocket("/ws/autosave") as editor:
        await authenticated(watcher, writer)
        await authenticated(editor, writer)
        await send(watcher, {"type": "subscribe", "page_id": page["page_id"]})
        assert await receive(watcher) == {"type": "subscribed", "page_id": page["page_id"], "version": 1}
        message = {"type": "save", "page_id": page["page_id"], "client_seq": 1, "content": slate("a")}
        await send(editor, {**message, "title": "Dos"})
        assert (await receive(editor))["type"] == "ack"
        update = await receive(watcher)
        assert update["type"] == "page.updated" and update["version"] == 2 and update["title"] == "Dos"
        assert update["page_id"] == page["page_id"] and update["saved_at"].endswith("Z")
        await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Tres"})
        rest_update = await receive(watcher)
        assert rest_update["version"] == 3 and rest_update["title"] == "Tres"
        await send(editor, {"type": "ping"})
        assert await receive(editor) == {"type": "pong"}  # the saver is not told of its own save


async def test_unsubscribe_stops_updates(client, writer, page):
    async with client.websocket("/ws/autosave") as watcher:
        await authenticated(watcher, writer)
        await send(watcher, {"type": "subscribe", "page_id": page["page_id"]})
        await receive(watcher)
        await send(watcher, {"type": "unsubscribe", "page_id": page["page_id"]})
        await send(watcher, {"type": "ping"})
        assert await receive(watcher) == {"type": "pong"}
        await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "x"})
        await send(watcher, {"type": "ping"})
        assert await receive(watcher) == {"type": "pong"}


async def test_only_the_owner_may_subscribe(client, writer, reader, page):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, reader)
        await send(socket, {"type": "subscribe", "page_id": page["page_id"]})
        error = await receive(socket)
    assert error["type"] == "error" and error["status"] == 404


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_redis_carries_a_pages_saves_here_only_while_a_socket_of_its_owner_watches_it(
    client, writer, reader, page, backend
):
    channel = f"{backend.settings.redis_key_prefix}events:page:{page['page_id']}"
    redis = Redis.from_url(backend.settings.redis_url or "")

    async def subscribers() -> int:
        [(_, count)] = await redis.pubsub_numsub(channel)
        return int(count)

    async def unsubscribed() -> bool:
        return await subscribers() == 0

    try:
        async with client.websocket("/ws/autosave") as stranger:
            await authenticated(stranger, reader)
            await send(stranger, {"type": "subscribe", "page_id": page["page_id"]})
            assert (await receive(stranger))["status"] == 404
            await wait_until(unsubscribed)
        async with client.websocket("/ws/autosave") as first, client.websocket("/ws/autosave") as second:
            for watcher in (first, second):
                await authenticated(watcher, writer)
                await send(watcher, {"type": "subscribe", "page_id": page["page_id"]})
                assert (await receive(watcher))["type"] == "subscribed"
                assert await subscribers() == 1  # one subscription for the process, however many watch
            await send(first, {"type": "unsubscribe", "page_id": page["page_id"]})
            await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Dos"})
            assert (await receive(second))["title"] == "Dos"
        await wait_until(unsubscribed)
    finally:
        await redis.aclose()


async def test_logout_closes_the_sessions_sockets_with_4401(client, writer):
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        assert (await client.delete("/user/logout", headers=writer.headers)).status_code == 204
        started = time.monotonic()
        assert await close_code(socket) == 4401
    assert time.monotonic() - started < 2


async def test_logout_of_another_session_leaves_this_socket_open(client, writer):
    other = await login(client, "writer")
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await client.delete("/user/logout", headers={"Authorization": f"Bearer {other['access_token']}"})
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}


async def test_expired_token_closes_with_4401(client, writer, settings):
    claims = jwt.decode(writer.access_token, settings.jwt_secret, algorithms=["HS256"])
    claims.update(iat=int(time.time()), exp=int(time.time()) + 1)
    short = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    async with client.websocket("/ws/autosave") as socket:
        await send(socket, {"type": "auth", "token": short})
        assert (await receive(socket))["type"] == "ready"
        assert await close_code(socket) == 4401


async def test_renewing_the_token_extends_the_connection(client, writer, settings):
    claims = jwt.decode(writer.access_token, settings.jwt_secret, algorithms=["HS256"])
    claims.update(iat=int(time.time()), exp=int(time.time()) + 1)
    short = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    async with client.websocket("/ws/autosave") as socket:
        await send(socket, {"type": "auth", "token": short})
        await receive(socket)
        await send(socket, {"type": "auth", "token": writer.access_token})
        renewed = await receive(socket)
        await asyncio.sleep(1.5)
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
    assert renewed["type"] == "ready" and renewed["expires_at"] > "1970"


async def test_renewing_with_another_users_token_closes_with_4401(client, writer):
    other = await make_account(client, "other")
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await send(socket, {"type": "auth", "token": other.access_token})
        assert await close_code(socket) == 4401


async def test_a_client_seq_beyond_64_bits_is_echoed_exactly(client, writer, page):
    client_seq = 2**70 + 1
    async with client.websocket("/ws/autosave") as socket:
        await authenticated(socket, writer)
        await send(
            socket,
            {"type": "save", "page_id": page["page_id"], "client_seq": client_seq, "content": slate("a")},
        )
        ack = await receive(socket)
    assert ack["type"] == "ack" and ack["client_seq"] == client_seq and ack["version"] == 2
