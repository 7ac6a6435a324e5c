"""An editor saving over the socket while the database is cut and restored: every save is
answered, and every acked save is in the database afterwards."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.drills.conftest import CLIENT_TIMEOUT_SECONDS, Drill, User, seconds_until
from tests.support import slate

SAVES = 60
# Half the socket's save limit (ws-save, 20 a second): the drill is about the database, not the limit.
SAVE_EVERY_SECONDS = 0.1
CUT_AT, RESTORE_AT = 15, 35


async def answers(socket: ClientConnection, count: int) -> dict[int, dict[str, object]]:
    """The answer to each save, by client_seq, until every one of `count` saves has one."""
    answered: dict[int, dict[str, object]] = {}
    while len(answered) < count:
        message = json.loads(await asyncio.wait_for(socket.recv(), CLIENT_TIMEOUT_SECONDS))
        if message["type"] in ("ack", "error", "conflict"):
            answered[message["client_seq"]] = message
    return answered


async def stored_page(drill: Drill, user: User, page_id: int) -> dict[str, object]:
    """The page as the database holds it (the first read after a reset may still be a 503)."""
    async with httpx.AsyncClient() as client:
        for _ in range(3):
            response = await client.get(
                f"{drill.server.url}/pages/{page_id}?mode=editor", headers=user.headers
            )
            if response.status_code == 200:
                page: dict[str, object] = response.json()
                return page
    raise AssertionError(response.text)


def new_notebook(drill: Drill, user: User) -> httpx.Response:
    body = {"title": "Después", "genre_id": 1}
    return httpx.post(
        f"{drill.server.url}/notebooks/", headers=user.headers, json=body, timeout=CLIENT_TIMEOUT_SECONDS
    )


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_every_acked_save_is_stored_when_the_database_is_cut(drill: Drill, user: User, page_id, mode):
    url = drill.server.url.replace("http://", "ws://") + "/ws/autosave"
    async with connect(url) as socket:
        await socket.send(json.dumps({"type": "auth", "token": user.token}))
        assert json.loads(await socket.recv())["type"] == "ready"
        listening = asyncio.create_task(answers(socket, SAVES))
        for seq in range(1, SAVES + 1):
            if seq == CUT_AT:
                await asyncio.to_thread(drill.database.set, mode)
            if seq == RESTORE_AT:
                await asyncio.to_thread(drill.database.set, "pass")
            save = {"type": "save", "page_id": page_id, "client_seq": seq, "content": slate(f"save {seq}")}
            await socket.send(json.dumps(save))
            await asyncio.sleep(SAVE_EVERY_SECONDS)
        answered = await listening

    acked = {seq: answer for seq, answer in answered.items() if answer["type"] == "ack"}
    refused = {seq: answer for seq, answer in answered.items() if answer["type"] == "error"}
    stored = await stored_page(drill, user, page_id)

    assert sorted(answered) == list(range(1, SAVES + 1))
    assert all(answer["status"] == 503 for answer in refused.values()), refused
    assert acked[SAVES]["version"] == stored["version"]
    assert stored["content"] == slate(f"save {SAVES}")
    # A reset refuses the saves written meanwhile; a silence shorter than the database's bound
    # (WORK_SECONDS) only delays their acks.
    assert refused if mode == "reset" else not refused
    # REST writes, on a pool of their own that the socket's saves did not renew, recover too.
    await asyncio.to_thread(seconds_until, lambda: new_notebook(drill, user), 201)
    print(
        f"\nDRILL socket saves, database {mode}: {len(acked)} acked, {len(refused)} answered 503;"
        f" the last ack (version {stored['version']}) is the stored version"
    )
