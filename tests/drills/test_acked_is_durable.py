"""Editors saving over the socket while the database is cut and restored: every save is
answered, and every acked save is in the database afterwards, alone or committed with others."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.drills.conftest import CLIENT_TIMEOUT_SECONDS, Drill, User, seconds_until
from tests.observability.metrics_support import parse_exposition, value
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


EDITORS = 8


def new_pages(drill: Drill, user: User, count: int) -> list[int]:
    notebook = new_notebook(drill, user).json()["notebook_id"]
    return [
        httpx.post(f"{drill.server.url}/pages/", headers=user.headers, json={"notebook_id": notebook}).json()[
            "page_id"
        ]
        for _ in range(count)
    ]


def transactions_per_commit(drill: Drill) -> tuple[float, float]:
    """How many commits the server made of saves sent in one round trip, and how many they held."""
    families = parse_exposition(httpx.get(f"{drill.server.url}/metrics").text)
    series = "sinpluma_database_transactions_per_commit"
    return value(families, f"{series}_count"), value(families, f"{series}_sum")


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_every_acked_save_of_editors_saving_together_is_stored_when_the_database_is_cut(
    drill: Drill, user: User, mode
):
    pages = new_pages(drill, user, EDITORS)
    commits_before, held_before = transactions_per_commit(drill)
    url = drill.server.url.replace("http://", "ws://") + "/ws/autosave"
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(url)) for _ in pages]
        for socket in sockets:
            await socket.send(json.dumps({"type": "auth", "token": user.token}))
            assert json.loads(await socket.recv())["type"] == "ready"
        listening = [asyncio.create_task(answers(socket, SAVES)) for socket in sockets]
        for seq in range(1, SAVES + 1):
            if seq == CUT_AT:
                await asyncio.to_thread(drill.database.set, mode)
            if seq == RESTORE_AT:
                await asyncio.to_thread(drill.database.set, "pass")
            # Sent at once, so that the saves of one process meet in its groups.
            for socket, page_id in zip(sockets, pages, strict=True):
                content = slate(f"page {page_id}, save {seq}")
                await socket.send(
                    json.dumps({"type": "save", "page_id": page_id, "client_seq": seq, "content": content})
                )
            await asyncio.sleep(SAVE_EVERY_SECONDS)
        answered = await asyncio.gather(*listening)
    commits_after, held_after = transactions_per_commit(drill)

    for page_id, answers_of_page in zip(pages, answered, strict=True):
        acked = [seq for seq, answer in answers_of_page.items() if answer["type"] == "ack"]
        refused = [answer for answer in answers_of_page.values() if answer["type"] == "error"]
        stored = await stored_page(drill, user, page_id)
        assert sorted(answers_of_page) == list(range(1, SAVES + 1))
        assert all(answer["status"] == 503 for answer in refused), refused
        assert answers_of_page[max(acked)]["version"] == stored["version"]
        assert stored["content"] == slate(f"page {page_id}, save {SAVES}")
    # Some commits held the saves of more than one editor.
    assert held_after - held_before > commits_after - commits_before
    await asyncio.to_thread(seconds_until, lambda: new_notebook(drill, user), 201)
