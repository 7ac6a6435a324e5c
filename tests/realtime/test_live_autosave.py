"""The autosave channel on live Hypercorn processes sharing MariaDB, Redis and S3."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.live import LiveAuthor, LiveServer
from tests.support import slate

TIMEOUT = 10
SAVES = 200
# Just under the 20 saves a second a connection may send.
SAVE_INTERVAL = 1 / 19


class Writer:
    """A user with a notebook and a page, made through the REST API."""

    def __init__(self, server: LiveServer) -> None:
        author = LiveAuthor.on(server.url)
        self.token, self.headers, self.page_id = author.token, author.headers, author.page_id

    def stored(self, server: LiveServer) -> dict[str, object]:
        response = httpx.get(f"{server.url}/pages/{self.page_id}?mode=editor", headers=self.headers)
        stored: dict[str, object] = response.json()
        return stored


def stored_after_restart(live_environment: dict[str, str], writer: Writer) -> dict[str, object]:
    """The writer's page as a freshly started server reads it from the database."""
    restarted = LiveServer(live_environment)
    try:
        return writer.stored(restarted)
    finally:
        restarted.stop()


def socket_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/ws/autosave"


async def open_socket(server: LiveServer, token: str) -> ClientConnection:
    socket = await connect(socket_url(server), max_size=None)
    await socket.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "ready"
    return socket


async def receive(socket: ClientConnection) -> dict[str, object]:
    message: dict[str, object] = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
    return message


async def close_code(socket: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_save_on_one_process_reaches_a_subscriber_on_the_other(live_servers):
    first, second = live_servers
    writer = Writer(first)
    async with (
        await open_socket(first, writer.token) as watcher,
        await open_socket(second, writer.token) as editor,
    ):
        await watcher.send(json.dumps({"type": "subscribe", "page_id": writer.page_id}))
        assert (await receive(watcher))["type"] == "subscribed"
        save = {
            "type": "save",
            "page_id": writer.page_id,
            "client_seq": 1,
            "content": slate("x"),
            "title": "T",
        }
        await editor.send(json.dumps(save))
        ack = await receive(editor)
        update = await receive(watcher)
    assert ack["type"] == "ack" and ack["version"] == 2
    assert update == {
        "type": "page.updated",
        "page_id": writer.page_id,
        "version": 2,
        "title": "T",
        "saved_at": ack["saved_at"],
    }


async def test_logout_on_one_process_closes_a_socket_on_the_other_within_2_seconds(live_servers):
    first, second = live_servers
    writer = Writer(first)
    async with await open_socket(second, writer.token) as socket:
        logout = await asyncio.to_thread(httpx.delete, f"{first.url}/user/logout", headers=writer.headers)
        assert logout.status_code == 204
        started = time.monotonic()
        assert await close_code(socket) == 4401
    assert time.monotonic() - started < 2


async def test_200_rapid_saves_are_all_acked_in_order_and_the_last_one_is_stored(live_servers):
    first, _ = live_servers
    writer = Writer(first)
    acks: dict[int, int] = {}
    async with await open_socket(first, writer.token) as socket:

        async def collect() -> None:
            while len(acks) < SAVES:
                message = await receive(socket)
                assert message["type"] == "ack", message
                acks[int(message["client_seq"])] = int(message["version"])  # type: ignore[call-overload]

        collector = asyncio.create_task(collect())
        for seq in range(1, SAVES + 1):
            save = {"type": "save", "page_id": writer.page_id, "client_seq": seq, "content": slate(f"v{seq}")}
            await socket.send(json.dumps(save))
            await asyncio.sleep(SAVE_INTERVAL)
        await asyncio.wait_for(collector, TIMEOUT)
    versions = [acks[seq] for seq in range(1, SAVES + 1)]
    assert versions == sorted(versions)
    stored = writer.stored(first)
    assert stored["content"] == slate(f"v{SAVES}") and stored["version"] == versions[-1]


async def test_a_message_over_2_mib_closes_with_1009(live_servers):
    first, _ = live_servers
    writer = Writer(first)
    async with await open_socket(first, writer.token) as socket:
        await socket.send(json.dumps({"type": "ping", "padding": "x" * (2 * 1024 * 1024)}))
        assert await close_code(socket) == 1009


async def test_acked_content_survives_kill_9(live_environment):
    server = LiveServer(live_environment)
    try:
        writer = Writer(server)
        async with await open_socket(server, writer.token) as socket:
            save = {"type": "save", "page_id": writer.page_id, "client_seq": 1, "content": slate("durable")}
            await socket.send(json.dumps(save))
            ack = await receive(socket)
            assert ack["type"] == "ack"
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    finally:
        server.stop()
    stored = stored_after_restart(live_environment, writer)
    assert stored["content"] == slate("durable") and stored["version"] == ack["version"]


async def test_sigterm_never_leaves_an_ack_for_content_that_is_not_stored(live_environment):
    server = LiveServer(live_environment)
    acked: dict[int, int] = {}
    try:
        writer = Writer(server)
        async with await open_socket(server, writer.token) as socket:
            for seq in range(1, 11):
                save = {
                    "type": "save",
                    "page_id": writer.page_id,
                    "client_seq": seq,
                    "content": slate(f"s{seq}"),
                }
                await socket.send(json.dumps(save))
            server.process.send_signal(signal.SIGTERM)
            try:
                while True:
                    message = await receive(socket)
                    if message["type"] == "ack":
                        acked[int(message["client_seq"])] = int(message["version"])  # type: ignore[call-overload]
            except (ConnectionClosed, TimeoutError):
                pass
        server.process.wait(timeout=30)
    finally:
        server.stop()
    stored = stored_after_restart(live_environment, writer)
    if acked:
        newest = max(acked)
        assert stored["version"] >= acked[newest]
        assert stored["content"] == slate(f"s{newest}") or stored["version"] > acked[newest]


async def test_deflate_is_negotiated_without_context_takeover(live_servers):
    first, _ = live_servers
    writer = Writer(first)
    async with connect(socket_url(first), compression="deflate") as socket:
        extensions = socket.response.headers["Sec-WebSocket-Extensions"]
        await socket.send(json.dumps({"type": "auth", "token": writer.token}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "ready"
        for _ in range(3):
            await socket.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT)) == {"type": "pong"}
    assert "permessage-deflate" in extensions
    assert "server_no_context_takeover" in extensions and "client_no_context_takeover" in extensions
