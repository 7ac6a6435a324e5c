"""`sinpluma serve --workers 2`: a worker killed with SIGKILL is replaced, and the service keeps
answering on the other one meanwhile. (Hypercorn's own `--workers 2` stops the whole server when
one worker dies: see docs/resilience.md.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.servers import SupervisedServer
from tests.live import LiveAuthor
from tests.support import WAIT_SECONDS, slate

# Requests answered before the kill, and after the replacement, for the load to count.
REQUESTS_AROUND_THE_KILL = 100
# Only the requests the killed worker held may fail: nothing after that.
FAILED_WINDOW_SECONDS = 1.0


def under_load(url: str, stop: threading.Event, outcomes: list[tuple[float, bool]]) -> None:
    """Public reads, each on a new connection, until `stop`: (time, answered 200) for each."""
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=no_keep_alive, timeout=WAIT_SECONDS) as client:
        while not stop.is_set():
            try:
                answered = client.get(f"{url}/genres/").status_code == 200
            except httpx.TransportError:
                answered = False
            outcomes.append((time.monotonic(), answered))


def wait_for_requests(outcomes: list[tuple[float, bool]], count: int) -> None:
    started = time.monotonic()
    while len(outcomes) < count:
        assert time.monotonic() - started < WAIT_SECONDS * 3, f"only {len(outcomes)} requests answered"
        time.sleep(0.01)


def wait_for_workers(server: SupervisedServer, count: int, gone: int) -> float:
    started = time.monotonic()
    while not (len(workers := server.workers()) == count and gone not in workers):
        assert time.monotonic() - started < WAIT_SECONDS, "the killed worker was not replaced"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_killed_worker_is_replaced_and_the_others_keep_serving(live_environment):
    with SupervisedServer(live_environment, workers=2) as server:
        stop, outcomes = threading.Event(), []
        load = threading.Thread(target=under_load, args=(server.url, stop, outcomes))
        load.start()
        try:
            wait_for_requests(outcomes, REQUESTS_AROUND_THE_KILL)
            victim = server.workers()[0]
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            replaced_after = wait_for_workers(server, 2, victim)
            wait_for_requests(outcomes, len(outcomes) + REQUESTS_AROUND_THE_KILL)
        finally:
            stop.set()
            load.join()
        assert httpx.get(f"{server.url}/healthz").status_code == 200

    failed = [at for at, answered in outcomes if not answered]
    after_kill = [answered for at, answered in outcomes if at > killed_at + FAILED_WINDOW_SECONDS]
    window = (max(failed) - min(failed)) if failed else 0.0
    assert after_kill and all(after_kill)
    assert window < FAILED_WINDOW_SECONDS
    print(
        f"\nDRILL worker kill -9: {len(failed)} of {len(outcomes)} requests failed, over {window:.3f} s;"
        f" replaced after {replaced_after:.2f} s"
    )


EDITORS = 6
SAVES_PER_EDITOR = 100
# Just under the 20 saves a second a connection may send.
SAVE_EVERY_SECONDS = 1 / 19


class Editor:
    """A user with a page, saving it over the socket; what was acked, and what was sent."""

    def __init__(self, url: str) -> None:
        author = LiveAuthor.on(url, title="K")
        self.token, self.headers, self.page_id = author.token, author.headers, author.page_id
        self.acked: dict[int, int] = {}
        self.sent = 0

    async def save_until_closed(self, url: str) -> None:
        socket_url = url.replace("http://", "ws://") + "/ws/autosave"
        with contextlib.suppress(ConnectionClosed):
            async with connect(socket_url) as socket:
                await socket.send(json.dumps({"type": "auth", "token": self.token}))
                await socket.recv()
                for seq in range(1, SAVES_PER_EDITOR + 1):
                    content = slate(f"save {seq}")
                    await socket.send(
                        json.dumps(
                            {"type": "save", "page_id": self.page_id, "client_seq": seq, "content": content}
                        )
                    )
                    self.sent = seq
                    answer = json.loads(await asyncio.wait_for(socket.recv(), WAIT_SECONDS))
                    if answer["type"] == "ack":
                        self.acked[seq] = answer["version"]
                    await asyncio.sleep(SAVE_EVERY_SECONDS)


async def test_acked_saves_survive_a_worker_killed_mid_save(live_environment):
    with SupervisedServer(live_environment, workers=2) as server:
        editors = [await asyncio.to_thread(Editor, server.url) for _ in range(EDITORS)]
        saving = [asyncio.create_task(editor.save_until_closed(server.url)) for editor in editors]
        await wait_for_halfway(editors)
        os.kill(busiest_worker(server), signal.SIGKILL)
        await asyncio.gather(*saving)
        async with httpx.AsyncClient() as client:
            stored = [
                (
                    await client.get(
                        f"{server.url}/pages/{editor.page_id}?mode=editor", headers=editor.headers
                    )
                ).json()
                for editor in editors
            ]

    cut = [editor for editor in editors if len(editor.acked) < SAVES_PER_EDITOR]
    for editor, page in zip(editors, stored, strict=True):
        last_acked = max(editor.acked)
        # Every acked save is stored; past it, at most the one save whose ack the kill cut off.
        assert page["version"] in (editor.acked[last_acked], editor.acked[last_acked] + 1)
        expected = [slate(f"save {last_acked}"), slate(f"save {last_acked + 1}")]
        assert page["content"] in expected[: page["version"] - editor.acked[last_acked] + 1]
    print(
        f"\nDRILL worker kill -9 under socket saves: {len(cut)} of {EDITORS} editors cut off;"
        " every ack stored"
    )


def busiest_worker(server: SupervisedServer) -> int:
    """The worker holding the most established connections on the server's port."""
    port = f":{server.port:04X} "
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if port in f"{fields[1]} " and fields[3] == "01":
            established.add(fields[9])
    held = {}
    for pid in server.workers():
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        held[pid] = sum(link[8:-1] in established for link in links if link.startswith("socket:["))
    return max(held, key=lambda pid: held[pid])


async def wait_for_halfway(editors: list[Editor]) -> None:
    started = time.monotonic()
    while not all(editor.sent >= SAVES_PER_EDITOR // 2 for editor in editors):
        assert time.monotonic() - started < WAIT_SECONDS * 3, "the editors did not get halfway"
        await asyncio.sleep(0.01)
