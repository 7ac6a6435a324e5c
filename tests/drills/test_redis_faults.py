"""Redis stops answering, or resets its connections, under a live server.

Authenticated calls answer 503 within Redis's timeouts; anonymous reads and an open socket's saves
go on (rate limits counted in the process meanwhile); everything is as before within 5 s of the
fault clearing, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.drills.conftest import (
    CLIENT_TIMEOUT_SECONDS,
    RECOVERY_SECONDS,
    Drill,
    User,
    seconds_until,
    timed,
)
from tests.support import slate

# redis-py gives up after its socket timeout (1 s), once retried: about 2 s, plus the pool's wait.
REDIS_FAILURE_SECONDS = 4
# How long a watcher waits to hear of each save before the next one is sent.
HEARD_WAIT_SECONDS = 0.25


def mine(drill: Drill, user: User) -> httpx.Response:
    return httpx.get(
        f"{drill.server.url}/notebooks/?scope=mine", headers=user.headers, timeout=CLIENT_TIMEOUT_SECONDS
    )


def public(drill: Drill) -> httpx.Response:
    return httpx.get(f"{drill.server.url}/notebooks/?scope=public", timeout=CLIENT_TIMEOUT_SECONDS)


@pytest.mark.parametrize("mode", ["blackhole", "reset"])
def test_authenticated_calls_fail_closed_and_anonymous_reads_go_on(drill, user, mode):
    assert mine(drill, user).status_code == 200
    with drill.redis.fault(mode):
        refused, refused_after = timed(lambda: mine(drill, user))
        anonymous, anonymous_after = timed(lambda: public(drill))
        # Counted in the process while Redis is away: still limited, never unlimited.
        counted = public(drill)
    recovered_after = seconds_until(lambda: mine(drill, user), 200)

    assert refused.status_code == 503 and refused.headers["Retry-After"], drill.server.log()[-3000:]
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused_after < REDIS_FAILURE_SECONDS
    assert anonymous.status_code == 200 and anonymous_after < REDIS_FAILURE_SECONDS
    assert counted.status_code == 200 and "RateLimit" in counted.headers
    print(
        f"\nDRILL redis {mode}: 503 after {refused_after:.2f} s; anonymous read {anonymous_after:.2f} s;"
        f" recovered {recovered_after:.2f} s after the fault cleared"
    )


@pytest.mark.parametrize("mode", ["blackhole", "reset"])
async def test_an_open_socket_keeps_saving_while_redis_is_away(drill, user, page_id, mode):
    url = drill.server.url.replace("http://", "ws://") + "/ws/autosave"
    async with connect(url) as socket:
        await socket.send(json.dumps({"type": "auth", "token": user.token}))
        assert json.loads(await socket.recv())["type"] == "ready"
        await asyncio.to_thread(drill.redis.set, mode)
        try:
            acks = []
            for seq in range(1, 4):
                save = {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate(str(seq))}
                await socket.send(json.dumps(save))
                acks.append(json.loads(await asyncio.wait_for(socket.recv(), CLIENT_TIMEOUT_SECONDS)))
        finally:
            await asyncio.to_thread(drill.redis.set, "pass")

    assert [(ack["type"], ack["client_seq"]) for ack in acks] == [("ack", 1), ("ack", 2), ("ack", 3)]
    async with httpx.AsyncClient() as client:
        stored = await client.get(f"{drill.server.url}/pages/{page_id}?mode=editor", headers=user.headers)
    assert stored.json()["content"] == slate("3")


async def test_a_socket_watching_a_page_hears_its_saves_again_once_redis_comes_back(drill, user, page_id):
    url = drill.server.url.replace("http://", "ws://") + "/ws/autosave"
    async with connect(url) as watcher, connect(url) as editor:
        for socket in (watcher, editor):
            await socket.send(json.dumps({"type": "auth", "token": user.token}))
            assert json.loads(await socket.recv())["type"] == "ready"
        await watcher.send(json.dumps({"type": "subscribe", "page_id": page_id}))
        assert json.loads(await watcher.recv())["type"] == "subscribed"
        await asyncio.to_thread(drill.redis.set, "reset")
        await asyncio.to_thread(drill.redis.set, "pass")
        heard_after = await seconds_until_heard(editor, watcher, page_id)
    assert heard_after < RECOVERY_SECONDS


async def seconds_until_heard(editor: ClientConnection, watcher: ClientConnection, page_id: int) -> float:
    """Save on `editor` until `watcher` hears of a save; fails after RECOVERY_SECONDS."""
    started = time.monotonic()
    seq = 0
    while time.monotonic() - started < RECOVERY_SECONDS:
        seq += 1
        save = {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate(str(seq))}
        await editor.send(json.dumps(save))
        assert json.loads(await asyncio.wait_for(editor.recv(), CLIENT_TIMEOUT_SECONDS))["type"] == "ack"
        with contextlib.suppress(TimeoutError):
            update = json.loads(await asyncio.wait_for(watcher.recv(), HEARD_WAIT_SECONDS))
            assert update["type"] == "page.updated"
            return time.monotonic() - started
    raise AssertionError(f"no save reached the watcher within {RECOVERY_SECONDS} s of the reset")
