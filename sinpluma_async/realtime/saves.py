"""Every committed save, REST or websocket, is announced to the page's watchers on every process."""

from __future__ import annotations

from sinpluma_async.contract import format_timestamp
from sinpluma_async.pages.announcements import PageUpdated
from sinpluma_async.realtime.events import EventBus


class SaveAnnouncements:
    """The pages service's announcer: each save becomes a `page.updated` event on the bus."""

    def __init__(self, events: EventBus) -> None:
        self._events = events

    async def announce(self, update: PageUpdated) -> None:
        await self._events.publish(
            {
                "kind": "page.updated",
                "page_id": update.page_id,
                "version": update.version,
                "title": update.title,
                "saved_at": format_timestamp(update.saved_at),
                "origin": update.origin,
            }
        )
