"""Editors on /ws/autosave: the same writer, saving over the socket, each ack timed in locust's stats.

websocket-client is a blocking client; under locust, gevent's patched sockets make it cooperative,
so a greenlet per editor reads acks while the user's own greenlet sends saves.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import gevent
import gevent.event
import websocket
from locust import constant_pacing
from locust.contrib.fasthttp import FastHttpUser

from loadtest.writers import SAVE_PERIOD_SECONDS, Desk, sign_in

SOCKET = "WS"
ACK_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0
# Now and then the app's tab is reloaded, once its last save is acknowledged (the app holds a reload
# while it shows "saving…"): the socket closes and a new one authenticates. A reload with a save in
# flight would read the page's version over REST before that save commits, and its next save would
# be a conflict of the load test's own making.
RELOAD = 1 / 60


class SocketClosedError(Exception):
    """The server closed the socket (its close code is in the message)."""


class EditorSocket:
    """One authenticated socket and the saves it is waiting to have acknowledged."""

    def __init__(self, user: Editor) -> None:
        self.user = user
        self.events = user.environment.events
        self.url = user.host.replace("http", "ws", 1).rstrip("/") + "/ws/autosave"
        self.pending: dict[int, float] = {}
        self.socket: websocket.WebSocket | None = None
        self.reader: gevent.Greenlet | None = None
        self.ready = gevent.event.Event()

    def report(self, name: str, started: float, length: int = 0, error: Exception | None = None) -> None:
        self.events.request.fire(
            request_type=SOCKET,
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )

    def connect(self, token: str) -> None:
        """Open the socket and authenticate with the first message; timed as `connect + auth`."""
        started = time.perf_counter()
        self.ready.clear()
        try:
            self.socket = websocket.create_connection(self.url, timeout=CONNECT_TIMEOUT_SECONDS)
            self.socket.settimeout(None)
            self.socket.send(json.dumps({"type": "auth", "token": token}))
            self.reader = gevent.spawn(self.read)
            if not self.ready.wait(CONNECT_TIMEOUT_SECONDS):
                raise TimeoutError("no ready message")
        except Exception as error:
            self.report("connect + auth", started, error=error)
            self.close()
            return
        self.report("connect + auth", started)

    @property
    def open(self) -> bool:
        return self.socket is not None and self.socket.connected

    def renew(self, token: str) -> None:
        """The fresh access token, sent on the open socket to extend it (answered with ready)."""
        if self.open:
            self.ready.clear()
            started = time.perf_counter()
            self.socket.send(json.dumps({"type": "auth", "token": token}))  # type: ignore[union-attr]
            error = None if self.ready.wait(ACK_TIMEOUT_SECONDS) else TimeoutError("no ready message")
            self.report("auth renewal", started, error=error)

    def save(self, page_id: int, client_seq: int, base_version: int, content: list[Any]) -> None:
        message = {
            "type": "save",
            "page_id": page_id,
            "client_seq": client_seq,
            "base_version": base_version,
            "content": content,
        }
        self.pending[client_seq] = time.perf_counter()
        self.socket.send(json.dumps(message, ensure_ascii=False))  # type: ignore[union-attr]

    def overdue(self) -> bool:
        """Whether a save has waited for its ack longer than ACK_TIMEOUT_SECONDS (reported)."""
        late = [seq for seq, sent in self.pending.items() if time.perf_counter() - sent > ACK_TIMEOUT_SECONDS]
        for seq in late:
            self.report("save → ack", self.pending.pop(seq), error=TimeoutError("no ack"))
        return bool(late)

    def read(self) -> None:
        socket = self.socket
        while socket is not None and socket.connected:
            try:
                opcode, data = socket.recv_data()
            except (websocket.WebSocketException, OSError):
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                if socket is self.socket:
                    self.report(
                        "server close", time.perf_counter(), error=SocketClosedError(f"closed with {code}")
                    )
                break
            self.receive(json.loads(data), len(data))
        if socket is self.socket:
            self.close()

    def receive(self, message: dict[str, Any], length: int) -> None:
        kind = message["type"]
        if kind == "ready":
            self.ready.set()
            return
        started = self.pending.pop(message.get("client_seq", -1), time.perf_counter())
        if kind == "ack":
            self.user.versions[message["page_id"]] = message["version"]
            self.report("save → ack", started, length)
        elif kind == "conflict":
            self.user.versions[message["page_id"]] = message["current_version"]
            self.report("save → conflict", started, length, error=ValueError("version conflict"))
        else:
            self.report(f"save → {kind}", started, length, error=ValueError(json.dumps(message)[:200]))

    def close(self) -> None:
        socket, self.socket = self.socket, None
        self.pending.clear()
        if socket is not None:
            socket.close()


class Editor(FastHttpUser):
    """The app's editor on the socket: a save every 2 s with client_seq and base_version, the next one
    only once the last was acknowledged (as the app shows "saving…"), tokens renewed on the socket."""

    wait_time = constant_pacing(SAVE_PERIOD_SECONDS)
    weight = 2

    def on_start(self) -> None:
        self.session = sign_in(self)
        self.desk = Desk(self.client, self.session, random.Random())
        self.versions = self.desk.versions
        self.client_seq = 0
        self.socket = EditorSocket(self)
        self.socket.connect(self.session.access_token)

    def on_stop(self) -> None:
        self.socket.close()
        self.session.logout()

    def autosave(self) -> None:
        if self.session.renew_if_due():
            self.socket.renew(self.session.access_token)
        if self.socket.overdue() or (not self.socket.pending and random.random() < RELOAD):
            self.socket.close()
        if not self.socket.open:
            # A save sent on the old socket may have been written without its ack reaching us.
            self.desk.open_page(self.desk.page_id)
            self.socket.connect(self.session.access_token)
        if not self.socket.open or self.socket.pending:
            return
        self.desk.now_and_then()
        self.client_seq += 1
        page_id = self.desk.page_id
        self.socket.save(page_id, self.client_seq, self.versions[page_id], self.desk.draft.next())

    tasks = [autosave]
