"""Keeping a notebook's page positions exactly 1..n. Callers hold the notebook's row lock."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sinpluma_async.errors import invalid
from sinpluma_async.pages.models import PAGES
from sinpluma_async.pages.write_locks import PageForWriting

PARKED = 0


async def page_count(connection: AsyncConnection, notebook_id: int) -> int:
    return (
        await connection.execute(select(func.count(PAGES.c.id)).where(PAGES.c.notebook_id == notebook_id))
    ).scalar_one()


async def shift(connection: AsyncConnection, notebook_id: int, low: int, high: int, delta: int) -> None:
    """Move the pages at positions low..high by delta.

    Unique (notebook_id, position) is checked row by row on SQLite and MariaDB alike, so the
    range is first negated (no clashes) and then brought back shifted.
    """
    of_notebook = PAGES.c.notebook_id == notebook_id
    await connection.execute(
        update(PAGES)
        .where(of_notebook, PAGES.c.position.between(low, high))
        .values(position=-PAGES.c.position)
    )
    await connection.execute(
        update(PAGES).where(of_notebook, PAGES.c.position < 0).values(position=-PAGES.c.position + delta)
    )


async def move(connection: AsyncConnection, page: PageForWriting, target: int) -> None:
    """Put the page at `target`, shifting the pages in between."""
    count = await page_count(connection, page.notebook_id)
    if not 1 <= target <= count:
        raise invalid(["position"], f"must be between 1 and {count}")
    current = page.position
    if target == current:
        return
    this_page = PAGES.c.id == page.id
    await connection.execute(update(PAGES).where(this_page).values(position=PARKED))
    if target < current:
        await shift(connection, page.notebook_id, target, current - 1, +1)
    else:
        await shift(connection, page.notebook_id, current + 1, target, -1)
    await connection.execute(update(PAGES).where(this_page).values(position=target))


async def close_gap(connection: AsyncConnection, notebook_id: int, removed_position: int) -> None:
    """After a page at removed_position is deleted, move the later pages up one."""
    await shift(connection, notebook_id, removed_position + 1, 2**31 - 1, -1)
