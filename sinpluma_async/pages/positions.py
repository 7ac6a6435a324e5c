"""Keeping a notebook's page positions exactly 1..n. Callers hold the notebook's row lock."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from sinpluma_async.errors import invalid
from sinpluma_async.pages.models import Page

PARKED = 0


async def page_count(session: AsyncSession, notebook_id: int) -> int:
    return (
        await session.execute(select(func.count(Page.id)).where(Page.notebook_id == notebook_id))
    ).scalar_one()


async def shift(session: AsyncSession, notebook_id: int, low: int, high: int, delta: int) -> None:
    """Move the pages at positions low..high by delta.

    Unique (notebook_id, position) is checked row by row on SQLite and MariaDB alike, so the
    range is first negated (no clashes) and then brought back shifted.
    """
    in_range = (Page.notebook_id == notebook_id) & Page.position.between(low, high)
    await session.execute(
        update(Page)
        .where(in_range)
        .values(position=-Page.position)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Page)
        .where(Page.notebook_id == notebook_id, Page.position < 0)
        .values(position=-Page.position + delta)
        .execution_options(synchronize_session=False)
    )


async def move(session: AsyncSession, page: Page, target: int) -> None:
    """Put the page at `target`, shifting the pages in between."""
    count = await page_count(session, page.notebook_id)
    if not 1 <= target <= count:
        raise invalid(["position"], f"must be between 1 and {count}")
    current = page.position
    if target == current:
        return
    await session.execute(
        update(Page)
        .where(Page.id == page.id)
        .values(position=PARKED)
        .execution_options(synchronize_session=False)
    )
    if target < current:
        await shift(session, page.notebook_id, target, current - 1, +1)
    else:
        await shift(session, page.notebook_id, current + 1, target, -1)
    await session.execute(
        update(Page)
        .where(Page.id == page.id)
        .values(position=target)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(page, "position", target)


async def close_gap(session: AsyncSession, notebook_id: int, removed_position: int) -> None:
    """After a page at removed_position is deleted, move the later pages up one."""
    await shift(session, notebook_id, removed_position + 1, 2**31 - 1, -1)
