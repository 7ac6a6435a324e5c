"""Every committed save, REST or websocket, is announced to the page's watchers on every process."""

from __future__ import annotations

from datetime import datetime

from sinpluma_async.contract import format_timestamp
from sinpluma_async.realtime.events import EventBus


async def announce_save(
    events: EventBus, *, page_id: int, version: int, title: str, saved_at: datetime, origin: str | None
) -> None:
    """Queue `page.updated` for every process; `origin` is the socket that saved, if one did."""
    await events.publish(
        {
            "kind": "page.updated",
            "page_id": page_id,
            "version": version,
            "title": title,
            "saved_at": format_timestamp(saved_at),
            "origin": origin,
        }
    )
