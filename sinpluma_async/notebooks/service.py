"""Notebooks: listing, creating, reading, changing and deleting, with visibility applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.db.engines import Database
from sinpluma_async.db.types import utcnow
from sinpluma_async.errors import invalid, unauthorized
from sinpluma_async.genres.catalog import GenreCatalog
from sinpluma_async.genres.models import Genre
from sinpluma_async.genres.schemas import GenreRead
from sinpluma_async.images.models import Image
from sinpluma_async.notebooks.models import Notebook, NotebookStatus
from sinpluma_async.notebooks.schemas import (
    AuthorRead,
    NotebookCreate,
    NotebookDetail,
    NotebookRead,
    NotebookUpdate,
)
from sinpluma_async.pages.models import Page
from sinpluma_async.pages.summaries import page_summaries
from sinpluma_async.pagination import PageQuery, Slice
from sinpluma_async.reader_copies.copies import ReaderCopies
from sinpluma_async.storage.objects import ObjectStore, discard_object
from sinpluma_async.users.models import User
from sinpluma_async.visibility import (
    notebook_for_writing,
    notebook_not_found,
    notebook_visible_to,
    pages_counted_for,
    visible_notebook,
)

Scope = Literal["public", "mine"]


def notebook_query(viewer_id: int | None) -> Select[Notebook, str, str | None, str, int]:
    """Notebooks with their author, genre and the number of pages the viewer can see, in one statement."""
    page_count = (
        select(func.count(Page.id))
        .where(Page.notebook_id == Notebook.id, pages_counted_for(viewer_id))
        .correlate(Notebook)
        .scalar_subquery()
    )
    return (
        select(Notebook, User.username, User.display_name, Genre.name, page_count)
        .join(User, Notebook.author_id == User.id)
        .join(Genre, Notebook.genre_id == Genre.id)
    )


def notebook_read(row: Sequence[Any]) -> NotebookRead:
    notebook, username, display_name, genre_name, page_count = row
    return NotebookRead(
        notebook_id=notebook.id,
        title=notebook.title,
        resume=notebook.resume,
        genre_id=notebook.genre_id,
        genre=GenreRead(genre_id=notebook.genre_id, name=genre_name),
        author=AuthorRead(user_id=notebook.author_id, username=username, display_name=display_name),
        status=notebook.status,
        page_count=page_count,
        cover_url=f"/notebooks/{notebook.id}/image/" if notebook.cover_id is not None else None,
        created_at=notebook.created_at,
        updated_at=notebook.updated_at,
        published_at=notebook.published_at,
    )


async def load_notebook_read(session: AsyncSession, notebook_id: int, viewer_id: int | None) -> NotebookRead:
    row = (await session.execute(notebook_query(viewer_id).where(Notebook.id == notebook_id))).one()
    return notebook_read(row)


async def list_notebooks(
    *,
    db: Database,
    viewer_id: int | None,
    scope: Scope | None,
    genre_id: int | None,
    author: str | None,
    page: PageQuery,
) -> Slice[NotebookRead]:
    """Newest `updated_at` first; `mine` needs a viewer, `public` is published notebooks only."""
    scope = scope or ("mine" if viewer_id is not None else "public")
    if scope == "mine":
        if viewer_id is None:
            raise unauthorized("token_missing", "scope=mine needs a bearer token")
        conditions = [Notebook.author_id == viewer_id]
    else:
        conditions = [notebook_visible_to(None)]
    if genre_id is not None:
        conditions.append(Notebook.genre_id == genre_id)
    if author is not None:
        conditions.append(User.username == author)
    matching = select(Notebook.id).join(User, Notebook.author_id == User.id).where(*conditions)
    newest_first = (Notebook.updated_at.desc(), Notebook.id.desc())
    # The page of ids is chosen first, so that page counts are computed for its rows only.
    chosen = matching.order_by(*newest_first).limit(page.per_page).offset(page.offset).subquery()
    query = notebook_query(viewer_id).join(chosen, chosen.c.id == Notebook.id).order_by(*newest_first)
    async with db.snapshot() as session:
        total = (await session.execute(select(func.count()).select_from(matching.subquery()))).scalar_one()
        rows = (await session.execute(query)).all()
    return Slice([notebook_read(row) for row in rows], total)


async def _require_genre(db: Database, genres: GenreCatalog, genre_id: int) -> None:
    if await genres.get(db, genre_id) is None:
        raise invalid(["genre_id"], "no genre has this id")


async def create_notebook(
    *, db: Database, genres: GenreCatalog, author_id: int, notebook_create: NotebookCreate
) -> NotebookRead:
    """A new draft notebook by the caller."""
    await _require_genre(db, genres, notebook_create.genre_id)
    async with db.transaction() as session:
        notebook = Notebook(
            author_id=author_id,
            genre_id=notebook_create.genre_id,
            title=notebook_create.title,
            resume=notebook_create.resume,
            status=NotebookStatus.DRAFT,
        )
        session.add(notebook)
        await session.flush()
        return await load_notebook_read(session, notebook.id, author_id)


async def get_notebook(*, db: Database, viewer_id: int | None, notebook_id: int) -> NotebookDetail:
    """A notebook and the summaries of the pages the viewer can see, by position."""
    async with db.snapshot() as session:
        row = (
            await session.execute(notebook_query(viewer_id).where(Notebook.id == notebook_id))
        ).one_or_none()
        if row is None:
            raise notebook_not_found()
        visible_notebook(row[0], viewer_id)
        notebook = notebook_read(row)
        summaries = await page_summaries(
            session,
            notebook_id=notebook_id,
            viewer_id=viewer_id,
            as_owner=viewer_id == notebook.author.user_id,
        )
    return NotebookDetail(**notebook.model_dump(), pages=summaries)


async def update_notebook(
    *,
    db: Database,
    genres: GenreCatalog,
    copies: ReaderCopies,
    viewer_id: int,
    notebook_id: int,
    changes: NotebookUpdate,
) -> NotebookRead:
    """Change the author's notebook; moving to `published` stamps `published_at`."""
    fields = changes.model_dump(exclude_unset=True)
    if "genre_id" in fields:
        await _require_genre(db, genres, fields["genre_id"])
    async with db.transaction() as session:
        notebook = await notebook_for_writing(session, notebook_id=notebook_id, viewer_id=viewer_id)
        now = utcnow()
        status = fields.pop("status", notebook.status)
        status_changed = status != notebook.status
        if status_changed:
            notebook.published_at = now if status == NotebookStatus.PUBLISHED else None
            notebook.status = status
        for name, value in fields.items():
            setattr(notebook, name, value)
        notebook.updated_at = now
        await session.flush()
        changed = await load_notebook_read(session, notebook_id, viewer_id)
    if status_changed:  # who may read its pages
        await copies.renew(notebook_id)
    return changed


async def delete_notebook(
    *, db: Database, store: ObjectStore, copies: ReaderCopies, viewer_id: int, notebook_id: int
) -> None:
    """Delete the author's notebook with its pages, readings and cover (row, then object)."""
    async with db.transaction() as session:
        notebook = await notebook_for_writing(session, notebook_id=notebook_id, viewer_id=viewer_id)
        cover = None if notebook.cover_id is None else await session.get(Image, notebook.cover_id)
        await session.delete(notebook)
        if cover is not None:
            await session.flush()
            await session.delete(cover)
    await copies.renew(notebook_id)
    if cover is not None:
        await discard_object(store, cover.object_key)
