"""What a committed save tells the page's watchers. How it reaches them is the caller's to hand in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PageUpdated:
    """A save that committed: the page's new version and title."""

    page_id: int
    version: int
    title: str
    saved_at: datetime
    # The socket that saved, if one did: it is not told of its own save.
    origin: str | None


class SaveAnnouncer(Protocol):
    async def announce(self, update: PageUpdated) -> None:
        """Queue the update for the page's watchers on every process; never waits for them."""
