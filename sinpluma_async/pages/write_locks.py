"""The lock order of page writes: the notebook row first, then the page row.

Every transaction that changes pages locks its notebook's row before any page row, so that
saves, moves, creations and deletions in one notebook never deadlock one another.

Creations, moves and deletions change positions: they take the notebook's lock whole, and move
its `updated_at` in the same statement (under READ COMMITTED its subquery reads the page without
locking it). A save of a page's title or content changes no position: it takes the notebook's
lock shared (SHARE_NOTEBOOK_OF_PAGE or SHARE_NOTEBOOK, the first statement of its batch in
`pages.saves`), so saves of different pages of one notebook do not wait for one another, while a
creation, move or deletion waits for them and they for it. The notebook's
`updated_at` then moves after the save's commit, in a statement of its own, at most once every
TOUCH_LAG_S seconds per process (`touch_after_save`): it lags a save by at most that.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, ScalarSelect, Update, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from sinpluma_async.db.engines import Database
from sinpluma_async.db.statements import RunStatement
from sinpluma_async.notebooks.models import NOTEBOOKS
from sinpluma_async.pages.models import PAGES
from sinpluma_async.visibility import page_not_found, require_page_author

log = logging.getLogger(__name__)
TOUCH_LAG_S = 1.0
# Notebooks touched within TOUCH_LAG_S are remembered; past this many, older entries are dropped.
_REMEMBERED_TOUCHES = 10_000


def written_by(viewer_id_param: str) -> ColumnElement[bool]:
    """SQL condition on Notebook, for writes that check and change at once: the viewer wrote it.

    Such a write changes nothing when the condition fails; `page_for_writing` then says why.
    """
    return NOTEBOOKS.c.author_id == bindparam(viewer_id_param)


@dataclass(frozen=True)
class PageForWriting:
    """What a write needs of a page whose notebook row and own row this transaction has locked."""

    id: int
    notebook_id: int
    version: int
    title: str
    position: int


def _touch_notebook(which: ColumnElement[bool]) -> Update:
    return (
        update(NOTEBOOKS).where(which).values(updated_at=bindparam("now", type_=NOTEBOOKS.c.updated_at.type))
    )


# Built once, as every save runs them: building and keying a statement costs more than sending it.
_TOUCH_NOTEBOOK_OF_PAGE = _touch_notebook(
    NOTEBOOKS.c.id == select(PAGES.c.notebook_id).where(PAGES.c.id == bindparam("page_id")).scalar_subquery()
)


def _of_the_page(column: ColumnElement[Any]) -> ScalarSelect[Any]:
    return select(column).where(PAGES.c.id == bindparam("page_id")).scalar_subquery()


# A title or content save shares the notebook's lock (under READ COMMITTED the subquery does not
# lock the page).
SHARE_NOTEBOOK_OF_PAGE = (
    select(NOTEBOOKS.c.author_id, NOTEBOOKS.c.status)
    .where(NOTEBOOKS.c.id == _of_the_page(PAGES.c.notebook_id))
    .with_for_update(read=True)
)
SHARE_NOTEBOOK = (
    select(NOTEBOOKS.c.id).where(NOTEBOOKS.c.id == bindparam("of_notebook")).with_for_update(read=True)
)
# After a save's commit: never moves `updated_at` back, as a touch from another process may be later.
TOUCH_NOTEBOOK_AFTER_SAVE = (
    update(NOTEBOOKS)
    .where(NOTEBOOKS.c.id == bindparam("of_notebook"), NOTEBOOKS.c.updated_at < bindparam("now"))
    .values(updated_at=bindparam("now", type_=NOTEBOOKS.c.updated_at.type))
)
LOCK_PAGE_ALONE = (
    select(PAGES.c.notebook_id, PAGES.c.version, PAGES.c.title, PAGES.c.position, PAGES.c.published)
    .where(PAGES.c.id == bindparam("page_id"))
    .with_for_update()
)
_LOCK_PAGE = (
    select(
        PAGES.c.notebook_id,
        PAGES.c.version,
        PAGES.c.title,
        PAGES.c.position,
        PAGES.c.published,
        NOTEBOOKS.c.author_id,
        NOTEBOOKS.c.status,
    )
    .join_from(PAGES, NOTEBOOKS, PAGES.c.notebook_id == NOTEBOOKS.c.id)
    .where(PAGES.c.id == bindparam("page_id"))
    .with_for_update()
)


async def page_for_writing(
    connection: AsyncConnection, *, page_id: int, viewer_id: int, now: datetime
) -> PageForWriting:
    """Lock the page's notebook, marking it updated at `now`, then the page, if the viewer wrote them.

    When the page turns out not to be the viewer's, the error rolls the notebook's update back
    with the transaction.
    """
    params = {"page_id": page_id, "now": now}
    if (await connection.execute(_TOUCH_NOTEBOOK_OF_PAGE, params)).rowcount == 0:
        raise page_not_found()
    page = (await connection.execute(_LOCK_PAGE, params)).one_or_none()
    if page is None:
        raise page_not_found()
    require_page_author(
        author_id=page.author_id, status=page.status, published=page.published, viewer_id=viewer_id
    )
    return PageForWriting(page_id, page.notebook_id, page.version, page.title, page.position)


@dataclass(frozen=True)
class SharedNotebook:
    """A save's notebook, its lock shared: who wrote it, and whether it is published."""

    author_id: int
    status: str


async def share_notebook_of_page(run: RunStatement, *, page_id: int) -> SharedNotebook:
    """Share the lock of the page's notebook; 404 if there is no such page.

    For a save of title or content: `touch_after_save` moves the notebook's `updated_at` once
    the transaction has committed.
    """
    row = await run.first_row(SHARE_NOTEBOOK_OF_PAGE, {"page_id": page_id})
    if row is None:
        raise page_not_found()
    author_id, status = row
    return SharedNotebook(author_id, status)


async def page_for_saving(
    run: RunStatement, *, notebook: SharedNotebook, page_id: int, viewer_id: int
) -> PageForWriting:
    """Lock the page whose notebook's lock this transaction shares, if the viewer wrote them."""
    page = await run.first_row(LOCK_PAGE_ALONE, {"page_id": page_id})
    if page is None:
        raise page_not_found()
    notebook_id, version, title, position, published = page
    require_page_author(
        author_id=notebook.author_id, status=notebook.status, published=bool(published), viewer_id=viewer_id
    )
    return PageForWriting(page_id, notebook_id, version, title, position)


_last_touches: WeakKeyDictionary[Database, dict[int, float]] = WeakKeyDictionary()


async def touch_after_save(db: Database, *, notebook_id: int, now: datetime) -> None:
    """Move the notebook's `updated_at` to a committed save's `now`, unless this process did so
    less than TOUCH_LAG_S ago. The save stands either way: a failure here is only logged."""
    touches = _last_touches.setdefault(db, {})
    clock = time.monotonic()
    if clock - touches.get(notebook_id, float("-inf")) < TOUCH_LAG_S:
        return
    try:
        await db.write_alone(TOUCH_NOTEBOOK_AFTER_SAVE, {"of_notebook": notebook_id, "now": now})
    except DBAPIError as error:
        log.warning("Notebook %s: updated_at not moved after a save: %s", notebook_id, error)
        return
    if len(touches) >= _REMEMBERED_TOUCHES:
        for stale in [key for key, at in touches.items() if clock - at >= TOUCH_LAG_S]:
            del touches[stale]
    touches[notebook_id] = clock
