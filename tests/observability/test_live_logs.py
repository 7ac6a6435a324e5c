"""Request ids and JSON lines through a live Hypercorn: the socket's handshake and its later lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sinpluma_async.config import Settings
from tests.live import LiveServer, settings_environment
from tests.support import PASSWORD, wait_until

TIMEOUT = 10


@pytest.fixture
def live(settings: Settings, app) -> Iterator[LiveServer]:
    """A Hypercorn process on the test's database and storage, logging JSON lines."""
    with LiveServer(settings_environment(settings, SINPLUMA_LOG_FORMAT="json")) as server:
        yield server


def log_lines(server: LiveServer) -> list[dict]:
    """Every line the server printed, each parsed as one JSON object (it fails on any other line)."""
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def lines_of(server: LiveServer, request_id: str) -> list[dict]:
    return [line for line in log_lines(server) if line.get("request_id") == request_id]


async def test_every_line_is_json_and_each_request_has_one_access_line(live, writer):
    login = {"username": writer.username, "password": PASSWORD}
    async with httpx.AsyncClient(base_url=live.url) as http:
        response = await http.post("/user/login", json=login, headers={"X-Request-ID": "live-login"})
        token = response.json()["access_token"]
        await http.get("/notebooks/", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "live-2"})

    async def both_logged() -> bool:
        return bool(lines_of(live, "live-login")) and bool(lines_of(live, "live-2"))

    await wait_until(both_logged)
    (login_line,) = lines_of(live, "live-login")
    assert login_line["event"] == "request" and login_line["route"] == "/user/login"
    assert login_line["status"] == 200 and login_line["method"] == "POST"
    (listing,) = lines_of(live, "live-2")
    assert listing["user_id"] == writer.user_id and listing["route"] == "/notebooks/"
    assert PASSWORD not in live.log() and token not in live.log()
    assert any("Running on http://" in line["event"] for line in log_lines(live))


async def test_the_socket_handshake_and_its_later_lines_carry_the_request_id(live, writer):
    url = live.url.replace("http://", "ws://") + "/ws/autosave"
    async with connect(url, additional_headers={"X-Request-ID": "socket-trace"}) as socket:
        assert socket.response.headers["X-Request-ID"] == "socket-trace"
        await socket.send(json.dumps({"type": "auth", "token": writer.access_token}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "ready"
        # Renewing with a bad token is refused: the server logs it, then closes with 4401.
        await socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert closed.value.rcvd.code == 4401

    async def socket_ended() -> bool:
        return any(line["event"] == "websocket" for line in lines_of(live, "socket-trace"))

    await wait_until(socket_ended)
    refused, access = lines_of(live, "socket-trace")
    assert refused["event"].startswith("Socket authentication refused")
    assert refused["user_id"] == writer.user_id and refused["logger"] == "sinpluma_async.realtime.connection"
    assert access["event"] == "websocket" and access["route"] == "/ws/autosave"
    assert access["status"] == 101 and access["user_id"] == writer.user_id
