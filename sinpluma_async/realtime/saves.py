"""Every committed save, REST or websocket, is announced to the page's watchers on every process."""

from __future__ import annotations

from sinpluma_async.pages.announcements import PageUpdated
from sinpluma_async.realtime.events import EventBus
from sinpluma_async.realtime.protocol import page_updated_event


class SaveAnnouncements:
    """The pages service's announcer: each save becomes a `page.updated` event on the bus."""

    def __init__(self, events: EventBus) -> None:
        self._events = events

    async def announce(self, update: PageUpdated) -> None:
        await self._events.publish(page_updated_event(update))
