"""Live Hypercorn processes: two sharing MariaDB and Redis behave as one service, and stopping
one leaves none of its processes behind."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from bench.servers import process_stats
from tests.live import LiveServer
from tests.support import PASSWORD, wait_until


def login_on(server: LiveServer) -> dict[str, str]:
    username = f"u{uuid.uuid4().hex[:12]}"
    registered = httpx.post(
        f"{server.url}/user/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    response = httpx.post(f"{server.url}/user/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def test_logout_on_one_process_is_refused_by_the_other(live_servers):
    first, second = live_servers
    tokens = login_on(first)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.put(f"{second.url}/user/settings", headers=headers, json={}).status_code == 200
    assert httpx.delete(f"{first.url}/user/logout", headers=headers).status_code == 204
    refused = httpx.put(f"{second.url}/user/settings", headers=headers, json={})
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert refused.headers["content-type"] == "application/problem+json"
    refresh = httpx.post(
        f"{second.url}/user/token/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert refresh.status_code == 401


def test_refresh_token_rotated_on_one_process_is_reuse_on_the_other(live_servers):
    first, second = live_servers
    tokens = login_on(first)
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    rotated = httpx.post(f"{first.url}/user/token/refresh", headers=refresh)
    assert rotated.status_code == 200
    reuse = httpx.post(f"{second.url}/user/token/refresh", headers=refresh)
    assert reuse.status_code == 401 and reuse.json()["code"] == "token_revoked"
    fresh = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert httpx.put(f"{first.url}/user/settings", headers=fresh, json={}).status_code == 401


def processes_of_session(session: int) -> list[int]:
    """Processes of the session, as /proc lists them, leaving out zombies."""
    return [pid for pid, fields in process_stats() if int(fields[3]) == session and fields[0] != "Z"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes through /proc")
async def test_stopping_a_server_whose_master_was_killed_stops_its_workers(live_environment):
    server = LiveServer(live_environment)
    session = server.process.pid
    os.kill(session, signal.SIGKILL)
    server.process.wait(timeout=10)
    assert processes_of_session(session) != []  # the worker does not notice
    server.stop()
    assert not server.running

    # A worker that has closed its output may still be exiting for a moment before it is gone.
    async def no_process_of_the_session_is_left() -> bool:
        return processes_of_session(session) == []

    await wait_until(no_process_of_the_session_is_left)
