"""`Expect: 100-continue` answered when the app reads the body, not as soon as the head arrives.

Hypercorn's HTTP/1.1 protocol sends `100 Continue` right after parsing a request's head, before
the app has even seen the request: a client announcing a body over a route's limit was invited to
send it all, then refused. Here Hypercorn's protocol sends it only once the app asks for the body
(the request scope's `CONTINUE_EXTENSION`, which `requests.StreamingBody` calls when a route first
reads); a request refused before that (413, 401, 404) gets its answer without any 100, and the
client never sends the body. Hypercorn offers no setting for this, so the protocol class it builds
is swapped here; tests/test_seams.py and tests/test_bodies_live.py fail if a release stops
honouring the swap.
"""

from __future__ import annotations

from typing import Any

import h11
import hypercorn.protocol
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.http_stream import HTTPStream

CONTINUE_EXTENSION = "sinpluma.continue"


class _ContinueWhenAsked(h11.Connection):
    """h11's connection, reporting a client that waits for 100 Continue only once the app asked."""

    body_wanted = False

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        return self.body_wanted and super().they_are_waiting_for_100_continue


class ContinueOnReadProtocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol, whose 100 Continue waits for the app to read the body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = _ContinueWhenAsked(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
        )

    async def _create_stream(self, request: h11.Request) -> None:
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


def continue_only_when_the_body_is_read() -> None:
    """Make Hypercorn build `ContinueOnReadProtocol` for every HTTP/1.1 connection."""
    setattr(hypercorn.protocol, "H11Protocol", ContinueOnReadProtocol)  # noqa: B010 - a module attribute, not ours
