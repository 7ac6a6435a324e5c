"""Who can see and who can change notebooks and pages: the one place these rules live.

A viewer sees a notebook they wrote or one that is published, and a page when they wrote its
notebook or both the notebook and the page are published. What a viewer cannot see is a 404;
what they can see but do not own is a 403 when they try to change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Update, bindparam, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from sinpluma_async.errors import APIError
from sinpluma_async.notebooks.models import NOTEBOOKS, Notebook
from sinpluma_async.pages.models import PAGES, Page


def notebook_not_found() -> APIError:
    return APIError(404, "not_found", "No such notebook")


def page_not_found() -> APIError:
    return APIError(404, "not_found", "No such page")


def not_the_author() -> APIError:
    return APIError(403, "forbidden", "Only the notebook's author may change it")


def notebook_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Notebook: the viewer may see it."""
    published = Notebook.status == "published"
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def page_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page joined with its Notebook: the viewer may see the page."""
    public = (Notebook.status == "published") & Page.published.is_(true())
    return public if viewer_id is None else or_(public, Notebook.author_id == viewer_id)


def pages_counted_for(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page, for a notebook the viewer can already see: which pages count."""
    published = Page.published.is_(true())
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def _can_see_notebook(notebook: Notebook, viewer_id: int | None) -> bool:
    return notebook.status == "published" or notebook.author_id == viewer_id


def _can_see_page(*, author_id: int, status: str, published: bool, viewer_id: int | None) -> bool:
    return author_id == viewer_id or (status == "published" and published)


def visible_notebook(notebook: Notebook | None, viewer_id: int | None) -> Notebook:
    """The notebook, already loaded, if the viewer may see it, else 404."""
    if notebook is None or not _can_see_notebook(notebook, viewer_id):
        raise notebook_not_found()
    return notebook


async def notebook_for_reading(session: AsyncSession, *, notebook_id: int, viewer_id: int | None) -> Notebook:
    """The notebook if the viewer may see it, else 404."""
    return visible_notebook(await session.get(Notebook, notebook_id), viewer_id)


async def notebook_for_writing(session: AsyncSession, *, notebook_id: int, viewer_id: int) -> Notebook:
    """The notebook, locked for this transaction, if the viewer wrote it; else 404 or 403."""
    notebook = await session.get(Notebook, notebook_id, with_for_update=True, populate_existing=True)
    if notebook is None or not _can_see_notebook(notebook, viewer_id):
        raise notebook_not_found()
    if notebook.author_id != viewer_id:
        raise not_the_author()
    return notebook


async def page_for_reading(
    session: AsyncSession, *, page_id: int, viewer_id: int | None
) -> tuple[Page, Notebook]:
    """The page and its notebook if the viewer may see the page, else 404."""
    row = (
        await session.execute(
            select(Page, Notebook).join(Notebook, Page.notebook_id == Notebook.id).where(Page.id == page_id)
        )
    ).one_or_none()
    if row is None:
        raise page_not_found()
    page, notebook = row
    if not _can_see_page(
        author_id=notebook.author_id, status=notebook.status, published=page.published, viewer_id=viewer_id
    ):
        raise page_not_found()
    return page, notebook


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

    Every transaction that changes pages locks the notebook row before any page row, so that
    saves, moves, creations and deletions in one notebook never deadlock one another. Every page
    change also moves its notebook's `updated_at`, and that update is what takes the notebook's
    lock (under READ COMMITTED its subquery reads the page without locking it). When the page
    turns out not to be the viewer's, the error rolls that update back with the transaction.
    """
    params = {"page_id": page_id, "now": now}
    if (await connection.execute(_TOUCH_NOTEBOOK_OF_PAGE, params)).rowcount == 0:
        raise page_not_found()
    page = (await connection.execute(_LOCK_PAGE, params)).one_or_none()
    if page is None or not _can_see_page(
        author_id=page.author_id, status=page.status, published=page.published, viewer_id=viewer_id
    ):
        raise page_not_found()
    if page.author_id != viewer_id:
        raise not_the_author()
    return PageForWriting(page_id, page.notebook_id, page.version, page.title, page.position)
