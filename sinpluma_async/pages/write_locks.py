"""The lock order of page writes: the notebook row first, then the page row.

Every transaction that changes pages locks its notebook's row before any page row, so that
saves, moves, creations and deletions in one notebook never deadlock one another. Every page
change also moves its notebook's `updated_at`, and that update is what takes the notebook's lock
(under READ COMMITTED its subquery reads the page without locking it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sinpluma_async.notebooks.models import NOTEBOOKS
from sinpluma_async.pages.models import PAGES
from sinpluma_async.visibility import page_not_found, require_page_author


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
# For a write that already knows the notebook (`of_notebook`): the same touch, and the same lock,
# taken first. Never with the author in its WHERE: InnoDB may then lock the author index before
# the row, and that order deadlocks with other page writes; check the author in the page's
# statement (`written_by`).
TOUCH_NOTEBOOK = _touch_notebook(NOTEBOOKS.c.id == bindparam("of_notebook"))
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
