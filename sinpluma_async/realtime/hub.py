"""This process's live editor sockets, found by the page they watch and the session they belong to."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Protocol

from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.realtime.close_codes import CloseCode
from sinpluma_async.realtime.events import EventBus
from sinpluma_async.realtime.protocol import (
    Event,
    PageUpdatedEvent,
    PageUpdatedMessage,
    encode,
    session_ended_event,
)
from sinpluma_async.security.revocation import RevocationStore

log = logging.getLogger(__name__)


class EditorConnection(Protocol):
    """What the hub needs of a socket (realtime.connection.EditorConnection is the one there is)."""

    @property
    def id(self) -> str: ...

    @property
    def session_id(self) -> str: ...

    @property
    def watched(self) -> set[int]: ...

    def push_encoded(self, text: str) -> None: ...

    def end(self, code: int) -> None: ...


class Hub:
    """Sockets by page and session. A socket watching a page holds one listen of the page's events
    (`listen`, then `watch`); `unwatch` and `leave` give it back."""

    def __init__(self, events: EventBus) -> None:
        self._events = events
        self.connections: set[EditorConnection] = set()
        self._watchers: defaultdict[int, set[EditorConnection]] = defaultdict(set)
        self._sessions: defaultdict[str, set[EditorConnection]] = defaultdict(set)

    def join(self, connection: EditorConnection) -> None:
        self.connections.add(connection)
        self._sessions[connection.session_id].add(connection)

    def leave(self, connection: EditorConnection) -> None:
        self.connections.discard(connection)
        self._discard(self._sessions, connection.session_id, connection)
        for page_id in connection.watched:
            self.unwatch(connection, page_id)

    def change_session(self, connection: EditorConnection, old: str, new: str) -> None:
        self._discard(self._sessions, old, connection)
        self._sessions[new].add(connection)

    async def listen(self, page_id: int) -> None:
        """Once this returns, saves of the page on any process reach this one (for `watch`)."""
        await self._events.listen(page_id)

    def stop_listening(self, page_id: int) -> None:
        """Give back a listen that no `watch` took over."""
        self._events.unlisten(page_id)

    def watch(self, connection: EditorConnection, page_id: int) -> None:
        """Deliver the page's updates to the socket, which has listened to the page first."""
        self._watchers[page_id].add(connection)

    def unwatch(self, connection: EditorConnection, page_id: int) -> None:
        if connection in self._watchers.get(page_id, ()):
            self._discard(self._watchers, page_id, connection)
            self._events.unlisten(page_id)

    def deliver(self, event: Event) -> None:
        """Route an event from any process to the sockets here that it concerns."""
        if event["kind"] == "page.updated":
            self._page_updated(event)
        elif event["kind"] == "session.ended":
            for session_id in event["session_ids"]:
                for connection in list(self._sessions.get(session_id, ())):
                    connection.end(CloseCode.UNAUTHORIZED)

    def _page_updated(self, event: PageUpdatedEvent) -> None:
        watchers = self._watchers.get(event["page_id"])
        if not watchers:
            return
        # Encoded once for every watcher; the socket that saved is not told of its own save.
        text = encode(
            PageUpdatedMessage(
                page_id=event["page_id"],
                version=event["version"],
                title=event["title"],
                saved_at=event["saved_at"],
            )
        )
        for connection in list(watchers):
            if connection.id != event["origin"]:
                connection.push_encoded(text)

    async def resync(self, revocations: RevocationStore) -> None:
        """After the event channel was down: end the sockets of sessions revoked meanwhile."""
        try:
            ended = await revocations.revoked_sessions(list(self._sessions))
        except ServiceUnavailableError:
            log.warning("Could not re-check sessions after the event channel came back")
            return
        self.end_sessions(sorted(ended))

    def end_sessions(self, session_ids: list[str]) -> None:
        """Close the sockets here of sessions just revoked, when this process is the only one."""
        self.deliver(session_ended_event(session_ids))

    @staticmethod
    def _discard(index: dict[Any, set[EditorConnection]], key: object, connection: EditorConnection) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(connection)
            if not members:
                del index[key]
