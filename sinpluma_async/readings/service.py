"""Readings: the notebooks a reader follows."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from sinpluma_async.db.engines import Database
from sinpluma_async.db.types import utcnow
from sinpluma_async.errors import APIError, conflict, not_found
from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.notebooks.service import notebook_query, notebook_read
from sinpluma_async.pagination import PageQuery, Slice
from sinpluma_async.readings.models import Reading
from sinpluma_async.readings.schemas import Following, ReadingRead
from sinpluma_async.visibility import notebook_for_reading, notebook_not_found, notebook_visible_to


def already_following() -> APIError:
    return conflict("already_following", "You already follow this notebook")


async def list_readings(*, db: Database, reader_id: int, page: PageQuery) -> Slice[ReadingRead]:
    """Followed notebooks the reader can still see, newest follow first."""
    conditions = (Reading.user_id == reader_id, notebook_visible_to(reader_id))
    matching = (
        select(Reading.notebook_id, Reading.followed_at)
        .join(Notebook, Reading.notebook_id == Notebook.id)
        .where(*conditions)
    )
    # The page of readings is chosen first, so that page counts are computed for its rows only.
    chosen = (
        matching.order_by(Reading.followed_at.desc(), Reading.notebook_id.desc())
        .limit(page.per_page)
        .offset(page.offset)
        .subquery()
    )
    query = (
        notebook_query(reader_id)
        .add_columns(chosen.c.followed_at)
        .join(chosen, chosen.c.notebook_id == Notebook.id)
        .order_by(chosen.c.followed_at.desc(), Notebook.id.desc())
    )
    async with db.snapshot() as session:
        total = (await session.execute(select(func.count()).select_from(matching.subquery()))).scalar_one()
        rows = (await session.execute(query)).all()
    return Slice([ReadingRead(notebook=notebook_read(row[:5]), followed_at=row[5]) for row in rows], total)


async def follow(*, db: Database, reader_id: int, notebook_id: int) -> Following:
    """Follow a notebook the reader can see; 409 when already following."""
    try:
        async with db.transaction() as session:
            await notebook_for_reading(session, notebook_id=notebook_id, viewer_id=reader_id)
            existing = await session.get(Reading, (reader_id, notebook_id))
            if existing is not None:
                raise already_following()
            reading = Reading(user_id=reader_id, notebook_id=notebook_id, followed_at=utcnow())
            session.add(reading)
    except IntegrityError:
        raise await _follow_conflict(db, reader_id, notebook_id) from None
    return Following(notebook_id=notebook_id, followed_at=reading.followed_at)


async def _follow_conflict(db: Database, reader_id: int, notebook_id: int) -> APIError:
    """Why an insert failed: a concurrent follow won the race (primary key), or the notebook was
    deleted after it was checked (foreign key). Read on the writer, which has both commits."""
    async with db.transaction() as session:
        existing = await session.get(Reading, (reader_id, notebook_id))
    return already_following() if existing is not None else notebook_not_found()


async def unfollow(*, db: Database, reader_id: int, notebook_id: int) -> None:
    """Stop following; 404 when not following."""
    async with db.transaction() as session:
        removed = await session.execute(
            delete(Reading).where(Reading.user_id == reader_id, Reading.notebook_id == notebook_id)
        )
        if removed.rowcount == 0:  # type: ignore[attr-defined]
            raise not_found("You do not follow this notebook")
