"""Drill: the Redis primary is killed (SIGKILL) under authenticated load, and the sentinels
promote its replica while the service runs.

Authenticated calls answer 503 with Retry-After from the kill until the service reaches the new
master, then 200 again, without a restart; never a 500 or a reset. A logout acknowledged before the
kill (or during the failover, if any was) stays refused after it. The event listener subscribes
again on the new master: a save reaches another socket's subscription.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.drills.conftest import CLIENT_TIMEOUT_SECONDS
from tests.live import LiveAuthor, LiveServer
from tests.sentinel.cluster import SentinelCluster, wait_for
from tests.support import PASSWORD, slate

CLIENTS = 4
SESSIONS_ENDED_DURING = 6
# From the kill until authenticated calls answer 200 again: the sentinels' 1 s to notice, their
# vote and promotion, and the client asking them again.
RECOVERY_SECONDS = 15
# Recovered: this many answers in a row, from every client together, are 200.
STEADY_ANSWERS = 40
# After recovery, a save reaches another socket's subscription within this: the event listener has
# subscribed again on the new master (it retries after at most 2 s).
FAN_OUT_SECONDS = 10
UPDATE_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class Answer:
    at: float
    status: int | None  # None: no HTTP answer at all (a reset, a timeout)
    retry_after: str | None = None
    error: str = ""


@dataclass
class Load:
    """Clients calling an authenticated route in a loop until stopped, every answer kept."""

    url: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def call(self, client: httpx.Client, method: str, path: str, token: str) -> Answer:
        try:
            response = client.request(
                method, f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as error:
            return Answer(time.monotonic(), None, error=repr(error))
        return Answer(time.monotonic(), response.status_code, response.headers.get("Retry-After"))

    def reads(self, token: str) -> None:
        with httpx.Client(timeout=CLIENT_TIMEOUT_SECONDS) as client:
            while not self.stop.is_set():
                self.answers.append(self.call(client, "GET", "/notebooks/?scope=mine", token))

    def logouts(self, tokens: list[str], acked: list[str], answers: list[Answer]) -> None:
        """Log each session out until one answer acknowledges it (or the load stops)."""
        pending = list(tokens)
        with httpx.Client(timeout=CLIENT_TIMEOUT_SECONDS) as client:
            while pending and not self.stop.is_set():
                token = pending.pop(0)
                answer = self.call(client, "DELETE", "/user/logout", token)
                answers.append(answer)
                if answer.status == 204:
                    acked.append(token)
                else:
                    pending.append(token)

    def steady(self) -> bool:
        recent = self.answers[-STEADY_ANSWERS:]
        return len(recent) == STEADY_ANSWERS and all(answer.status == 200 for answer in recent)


def sessions(url: str, count: int) -> list[str]:
    """The access tokens of `count` logins of one new user."""
    username = f"f{uuid.uuid4().hex[:12]}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    assert httpx.post(f"{url}/user/register", json=body).status_code == 201
    credentials = {"username": username, "password": PASSWORD}
    return [httpx.post(f"{url}/user/login", json=credentials).json()["access_token"] for _ in range(count)]


def status_with(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(
        f"{url}/notebooks/?scope=mine", headers=headers, timeout=CLIENT_TIMEOUT_SECONDS
    ).status_code


async def authenticated_socket(url: str, token: str) -> ClientConnection:
    socket = await connect(url.replace("http://", "ws://") + "/ws/autosave")
    await socket.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await asyncio.wait_for(socket.recv(), CLIENT_TIMEOUT_SECONDS))["type"] == "ready"
    return socket


async def saves_fan_out(url: str, author: LiveAuthor) -> float:
    """Save on one socket until another socket, subscribed to the page, hears of a save; when it did."""
    started = time.monotonic()
    async with (
        await authenticated_socket(url, author.token) as watcher,
        await authenticated_socket(url, author.token) as editor,
    ):
        await watcher.send(json.dumps({"type": "subscribe", "page_id": author.page_id}))
        assert json.loads(await watcher.recv())["type"] == "subscribed"
        for seq in range(1, FAN_OUT_SECONDS * 4):
            save = {"type": "save", "page_id": author.page_id, "client_seq": seq, "content": slate(str(seq))}
            await editor.send(json.dumps(save))
            assert json.loads(await asyncio.wait_for(editor.recv(), CLIENT_TIMEOUT_SECONDS))["type"] == "ack"
            try:
                update = json.loads(await asyncio.wait_for(watcher.recv(), UPDATE_WAIT_SECONDS))
            except TimeoutError:
                assert time.monotonic() - started < FAN_OUT_SECONDS, "no save reached the watcher"
                continue
            assert update["type"] == "page.updated"
            return time.monotonic()
    raise AssertionError("no save reached the watcher")


def test_killing_the_primary_under_load_is_a_bounded_503_window_and_loses_no_revocation(
    sentinel_server: LiveServer, sentinel_redis: SentinelCluster
) -> None:
    url = sentinel_server.url
    author = LiveAuthor.on(url)
    [logged_out_before, *readers] = sessions(url, 1 + CLIENTS)
    during = sessions(url, SESSIONS_ENDED_DURING)
    assert (
        httpx.delete(
            f"{url}/user/logout", headers={"Authorization": f"Bearer {logged_out_before}"}
        ).status_code
        == 204
    )
    load, acked, logout_answers = Load(url), [], []
    threads = [threading.Thread(target=load.reads, args=(token,)) for token in readers]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(load.answers) >= STEADY_ANSWERS, "answers before the kill")

    killed_at = time.monotonic()
    sentinel_redis.primary.kill()
    logging_out = threading.Thread(target=load.logouts, args=(during, acked, logout_answers))
    logging_out.start()
    try:
        promoted_after = wait_for(sentinel_redis.promoted, "the replica's promotion", RECOVERY_SECONDS)
        wait_for(
            lambda: load.steady() and any(a.status == 503 for a in load.answers),
            "steady 200s",
            RECOVERY_SECONDS,
        )
    finally:
        load.stop.set()
        for thread in [*threads, logging_out]:
            thread.join(CLIENT_TIMEOUT_SECONDS)

    every = load.answers + logout_answers
    assert all(answer.status in (200, 204, 503) for answer in every), [
        a for a in every if a.status not in (200, 204, 503)
    ]
    assert all(answer.retry_after for answer in every if answer.status == 503)
    refused = [answer.at for answer in load.answers if answer.status == 503]
    first_refused, last_refused = refused[0] - killed_at, refused[-1] - killed_at
    recovered = (
        min(answer.at for answer in load.answers if answer.at > refused[-1] and answer.status == 200)
        - killed_at
    )
    assert recovered < RECOVERY_SECONDS
    assert status_with(url, logged_out_before) == 401
    assert [status_with(url, token) for token in acked] == [401] * len(acked)
    fanned_out = asyncio.run(saves_fan_out(url, author)) - killed_at
    print(
        f"\nDRILL redis failover (SIGKILL of the primary, {CLIENTS} clients): {len(refused)} of"
        f" {len(load.answers)} authenticated answers 503, from {first_refused:.2f} s to {last_refused:.2f} s"
        f" after the kill; promoted {promoted_after:.2f} s after; 200 again {recovered:.2f} s after;"
        f" logouts during: {len(acked)} acked (refused after), {len(logout_answers) - len(acked)} 503;"
        f" logged out before the kill: still refused; a save reached another socket {fanned_out:.2f} s after"
    )
