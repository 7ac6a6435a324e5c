"""HTTP/1.1 as Hypercorn serves it, with two changes this service needs.

`Expect: 100-continue` is answered when the app reads the body, not as soon as the head arrives.
Hypercorn sent `100 Continue` right after parsing a request's head, before the app had even seen
the request: a client announcing a body over a route's limit was invited to send it all, then
refused. Here the 100 goes out only once the app asks for the body (the request scope's
`CONTINUE_EXTENSION`, which `requests.StreamingBody` calls when a route first reads); a request
refused before that (413, 401, 404) gets its answer without any 100, and the client never sends
the body.

A request's head must arrive whole within the read timeout. Hypercorn's `read_timeout` bounds
each read, so a client sending its head a byte a second never trips it; what ended such a client
was the keep-alive timer, which runs until a head is complete (75 s here). Here the head is timed
from its first byte (from the connection's start for the first request), and the connection is
closed at the first byte that arrives past `read_timeout`; a client that goes quiet instead is
cut by the read timeout itself.

Hypercorn offers no setting for either, so the protocol class it builds is swapped here;
tests/test_seams.py, tests/test_oversized_bodies.py and tests/test_slow_clients.py fail if a
release stops honouring the swap.
"""

from __future__ import annotations

import time
from typing import Any

import h11
import hypercorn.protocol
from hypercorn.events import Closed, Event, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.http_stream import HTTPStream

CONTINUE_EXTENSION = "sinpluma.continue"


class _ContinueWhenAsked(h11.Connection):
    """h11's connection, reporting a client that waits for 100 Continue only once the app asked."""

    body_wanted = False

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        return self.body_wanted and super().they_are_waiting_for_100_continue


class ServiceH11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol: 100 Continue when the app reads, heads within the read timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = _ContinueWhenAsked(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
        )
        self._head_started: float | None = time.monotonic()

    async def handle(self, event: Event) -> None:
        if isinstance(event, RawData) and self._head_overdue():
            await self.send(Closed())
            return
        await super().handle(event)

    def _head_overdue(self) -> bool:
        if self.stream is not None or self.config.read_timeout is None:
            return False
        now = time.monotonic()
        if self._head_started is None:
            self._head_started = now
        return now - self._head_started > self.config.read_timeout

    async def _create_stream(self, request: h11.Request) -> None:
        self._head_started = None
        if isinstance(self.connection, _ContinueWhenAsked):
            self.connection.body_wanted = False
        await super()._create_stream(request)
        # The app's task is spawned but has not run yet, so it finds the extension in its scope.
        if isinstance(self.stream, HTTPStream):
            self.stream.scope["extensions"][CONTINUE_EXTENSION] = self._invite_body  # type: ignore[assignment]

    async def _invite_body(self) -> None:
        connection = self.connection
        if isinstance(connection, _ContinueWhenAsked) and not connection.body_wanted:
            connection.body_wanted = True
            if connection.they_are_waiting_for_100_continue:
                headers = self.config.response_headers("h11")
                await self._send_h11_event(h11.InformationalResponse(status_code=100, headers=headers))


def serve_http11_as_the_service_needs() -> None:
    """Make Hypercorn build `ServiceH11Protocol` for every HTTP/1.1 connection."""
    setattr(hypercorn.protocol, "H11Protocol", ServiceH11Protocol)  # noqa: B010 - a module attribute, not ours
