"""Who can see and who can change notebooks and pages: the one place these rules live.

A viewer sees a notebook they wrote or one that is published, and a page when they wrote its
notebook or both the notebook and the page are published. What a viewer cannot see is a 404;
what they can see but do not own is a 403 when they try to change it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.errors import APIError, forbidden, not_found
from sinpluma_async.notebooks.models import Notebook, NotebookStatus
from sinpluma_async.pages.models import Page


def notebook_not_found() -> APIError:
    return not_found("No such notebook")


def page_not_found() -> APIError:
    return not_found("No such page")


def not_the_author() -> APIError:
    return forbidden("Only the notebook's author may change it")


def notebook_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Notebook: the viewer may see it (anonymous viewers: it is published)."""
    published = Notebook.status == NotebookStatus.PUBLISHED
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def page_visible_to(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page joined with its Notebook: the viewer may see the page."""
    public = (Notebook.status == NotebookStatus.PUBLISHED) & Page.published.is_(true())
    return public if viewer_id is None else or_(public, Notebook.author_id == viewer_id)


def pages_counted_for(viewer_id: int | None) -> ColumnElement[bool]:
    """SQL condition on Page, for a notebook the viewer can already see: which pages count."""
    published = Page.published.is_(true())
    return published if viewer_id is None else or_(published, Notebook.author_id == viewer_id)


def can_see_notebook(notebook: Notebook, viewer_id: int | None) -> bool:
    return notebook.status == NotebookStatus.PUBLISHED or notebook.author_id == viewer_id


def can_see_page(*, author_id: int, status: str, published: bool, viewer_id: int | None) -> bool:
    return author_id == viewer_id or (status == NotebookStatus.PUBLISHED and published)


def require_page_author(*, author_id: int, status: str, published: bool, viewer_id: int) -> None:
    """404 unless the viewer may see the page, 403 unless they wrote its notebook."""
    if not can_see_page(author_id=author_id, status=status, published=published, viewer_id=viewer_id):
        raise page_not_found()
    if author_id != viewer_id:
        raise not_the_author()


def visible_notebook(notebook: Notebook | None, viewer_id: int | None) -> Notebook:
    """The notebook, already loaded, if the viewer may see it, else 404."""
    if notebook is None or not can_see_notebook(notebook, viewer_id):
        raise notebook_not_found()
    return notebook


async def notebook_for_reading(session: AsyncSession, *, notebook_id: int, viewer_id: int | None) -> Notebook:
    """The notebook if the viewer may see it, else 404."""
    return visible_notebook(await session.get(Notebook, notebook_id), viewer_id)


async def notebook_for_writing(session: AsyncSession, *, notebook_id: int, viewer_id: int) -> Notebook:
    """The notebook, locked for this transaction, if the viewer wrote it; else 404 or 403."""
    locked = await session.get(Notebook, notebook_id, with_for_update=True, populate_existing=True)
    notebook = visible_notebook(locked, viewer_id)
    if notebook.author_id != viewer_id:
        raise not_the_author()
    return notebook
