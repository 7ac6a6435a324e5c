"""The one save routine of REST and websocket alike: save the page, then tell its watchers."""

from __future__ import annotations

from typing import Any

from sinpluma_async.contract import format_timestamp
from sinpluma_async.db import Database
from sinpluma_async.pages.schemas import PageSaved
from sinpluma_async.pages.service import save_page
from sinpluma_async.realtime.events import EventBus


async def save_and_announce(
    *,
    db: Database,
    events: EventBus,
    viewer_id: int,
    page_id: int,
    title: str | None = None,
    content: list[Any] | None = None,
    position: int | None = None,
    base_version: int | None = None,
    origin: str | None = None,
) -> PageSaved:
    """Save (committed when this returns) and announce `page.updated` to every process."""
    saved = await save_page(
        db=db,
        viewer_id=viewer_id,
        page_id=page_id,
        title=title,
        content=content,
        position=position,
        base_version=base_version,
    )
    await events.publish(
        {
            "kind": "page.updated",
            "page_id": saved.page_id,
            "version": saved.version,
            "title": saved.title,
            "saved_at": format_timestamp(saved.updated_at),
            "origin": origin,
        }
    )
    return saved
