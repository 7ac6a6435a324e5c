"""Saving a page: the one save routine, for REST (`save_page`) and the socket (`save_draft`).

Both validate the Slate document once, raise the version by exactly one, refuse a stale `base_version`
with a VersionConflictError, and announce `page.updated` once committed.

A save without a move is one round trip: the notebook's lock shared, a write that checks the author
(and the base version, if given) as it writes, and a read of the page as saved, sent with their BEGIN
and COMMIT together (`_save_in_place`); the socket's save from its last revision is one too, without
the read (`_save_from`). Only a write that matches nothing reads the page under its lock to say why. A
move locks the notebook whole (`_save_and_move`), and its pages' readers see the new positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, literal_column, or_, select, update

from sinpluma_async.db.engines import Database
from sinpluma_async.db.statements import Step
from sinpluma_async.db.types import utcnow
from sinpluma_async.errors import VersionConflictError, invalid
from sinpluma_async.notebooks.models import NOTEBOOKS
from sinpluma_async.pages import positions, slate
from sinpluma_async.pages.announcements import PageUpdated, SaveAnnouncer
from sinpluma_async.pages.models import PAGES
from sinpluma_async.pages.schemas import PageSaved
from sinpluma_async.pages.write_locks import (
    LOCK_PAGE_ALONE,
    SHARE_NOTEBOOK,
    SHARE_NOTEBOOK_OF_PAGE,
    TOUCH_NOTEBOOK_AFTER_SAVE,
    page_for_saving,
    page_for_writing,
    share_notebook_of_page,
    touch_after_save,
    written_by,
)
from sinpluma_async.reader_copies.copies import ReaderCopies


def stored_content(document: list[Any]) -> str:
    """Validate a Slate document and return its stored form, or raise a 400 naming `content`."""
    try:
        return slate.serialize(slate.validate(document))
    except slate.SlateError as error:
        raise invalid(["content"], str(error)) from None


# Built once: saves are the hottest writes there are. A None keeps the column as it is.
_DRAFT_VALUES = {
    PAGES.c.title: func.coalesce(bindparam("new_title", type_=PAGES.c.title.type), PAGES.c.title),
    PAGES.c.content: func.coalesce(bindparam("new_content", type_=PAGES.c.content.type), PAGES.c.content),
    PAGES.c.version: bindparam("new_version", type_=PAGES.c.version.type),
    PAGES.c.updated_at: bindparam("now", type_=PAGES.c.updated_at.type),
}
_SAVE_DRAFT = update(PAGES).where(PAGES.c.id == bindparam("page_id")).values(_DRAFT_VALUES)

# Every page write locks the notebook first (shared, for a save: see write_locks), so the saves
# below run after SHARE_NOTEBOOK or SHARE_NOTEBOOK_OF_PAGE. They check the notebook's author
# themselves, never in a statement that locks the notebook: InnoDB may then lock the author index
# before the row, and that order deadlocks.
# The socket's save from its last revision: only if the page is still at it, in that notebook.
_SAVE_DRAFT_AT_REVISION = _SAVE_DRAFT.where(
    PAGES.c.notebook_id == bindparam("of_notebook"),
    PAGES.c.version == bindparam("revision"),
    exists().where(NOTEBOOKS.c.id == bindparam("of_notebook"), written_by("viewer_id")),
)
# A save whose revision is not known: the next one, where the viewer wrote the page's notebook
# and, when the save names one, the page is still at its base version.
_SAVE_DRAFT_OF_THE_VIEWER = (
    update(PAGES)
    .where(
        PAGES.c.id == bindparam("page_id"),
        or_(
            bindparam("base_version", type_=PAGES.c.version.type).is_(None),
            PAGES.c.version == bindparam("base_version", type_=PAGES.c.version.type),
        ),
        exists().where(NOTEBOOKS.c.id == PAGES.c.notebook_id, written_by("viewer_id")),
    )
    .values({**_DRAFT_VALUES, PAGES.c.version: PAGES.c.version + literal_column("1")})
)
# The page as this transaction left it (read after the notebook's lock): the position to answer.
_PAGE_AS_SAVED = select(PAGES.c.notebook_id, PAGES.c.version, PAGES.c.title, PAGES.c.position).where(
    PAGES.c.id == bindparam("page_id")
)
# What saves without a move run (`write_together`, `write_alone`, ...), prepared once per database.
AUTOSAVE_STATEMENTS = (
    SHARE_NOTEBOOK,
    _SAVE_DRAFT_AT_REVISION,
    TOUCH_NOTEBOOK_AFTER_SAVE,
    SHARE_NOTEBOOK_OF_PAGE,
    _SAVE_DRAFT_OF_THE_VIEWER,
    _PAGE_AS_SAVED,
    LOCK_PAGE_ALONE,
    _SAVE_DRAFT,
)


@dataclass(frozen=True)
class PageRevision:
    """A page as a committed save left it. The same writer's next save may start from it."""

    page_id: int
    notebook_id: int
    version: int
    title: str
    saved_at: datetime


async def save_page(
    *,
    db: Database,
    announcer: SaveAnnouncer,
    copies: ReaderCopies,
    viewer_id: int,
    page_id: int,
    title: str | None = None,
    content: list[Any] | None = None,
    position: int | None = None,
    base_version: int | None = None,
) -> PageSaved:
    """Save a page and announce it: the REST save. `save_draft` is the same save without a position.

    The version goes up by exactly one per successful save. A stale `base_version` is a
    VersionConflictError (412 with `current_version`), and nothing is written."""
    stored = None if content is None else stored_content(content)
    if position is None:
        revision, position_now = await _save_in_place(
            db=db, viewer_id=viewer_id, page_id=page_id, title=title, stored=stored, base_version=base_version
        )
    else:
        revision, position_now = await _save_and_move(
            db=db,
            copies=copies,
            viewer_id=viewer_id,
            page_id=page_id,
            title=title,
            stored=stored,
            position=position,
            base_version=base_version,
        )
    await _announce(announcer, revision, origin=None)
    return PageSaved(
        page_id=page_id,
        version=revision.version,
        title=revision.title,
        position=position_now,
        updated_at=revision.saved_at,
    )


async def save_draft(
    *,
    db: Database,
    announcer: SaveAnnouncer,
    origin: str | None,
    viewer_id: int,
    page_id: int,
    content: list[Any],
    title: str | None = None,
    base_version: int | None = None,
    since: PageRevision | None = None,
) -> PageRevision:
    """Save a page's draft and announce it: the websocket's save, with `save_page`'s rules.

    `since` is the revision the same writer's previous save left. While the page is still
    there, the save is two statements that check and write at once; otherwise (or on the first
    save) it is `save_page`'s save without a move, and refuses or conflicts exactly as it does.
    `origin` names the socket that saves, which is not told of its own save.
    """
    stored = stored_content(content)
    revision = None
    if since is not None and since.page_id == page_id and base_version in (None, since.version):
        # None if the page moved on: the save below then reads it as it is.
        revision = await _save_from(db=db, viewer_id=viewer_id, since=since, title=title, stored=stored)
    if revision is None:
        revision, _ = await _save_in_place(
            db=db, viewer_id=viewer_id, page_id=page_id, title=title, stored=stored, base_version=base_version
        )
    await _announce(announcer, revision, origin=origin)
    return revision


async def _announce(announcer: SaveAnnouncer, saved: PageRevision, *, origin: str | None) -> None:
    await announcer.announce(PageUpdated(saved.page_id, saved.version, saved.title, saved.saved_at, origin))


async def _save_from(
    *, db: Database, viewer_id: int, since: PageRevision, title: str | None, stored: str
) -> PageRevision | None:
    now = utcnow()
    params = {
        "of_notebook": since.notebook_id,
        "page_id": since.page_id,
        "revision": since.version,
        "viewer_id": viewer_id,
        "new_version": since.version + 1,
        "new_title": title,
        "new_content": stored,
        "now": now,
    }
    # The notebook's lock shared, then the write, sent together: a notebook that is gone fails the
    # write's own check, and a write that matches nothing commits nothing.
    _, written = await db.write_together([(SHARE_NOTEBOOK, params), (_SAVE_DRAFT_AT_REVISION, params)])
    if written.row_count == 0:
        return None
    await touch_after_save(db, notebook_id=since.notebook_id, now=now)
    return PageRevision(
        since.page_id, since.notebook_id, since.version + 1, since.title if title is None else title, now
    )


async def _save_in_place(
    *,
    db: Database,
    viewer_id: int,
    page_id: int,
    title: str | None,
    stored: str | None,
    base_version: int | None,
) -> tuple[PageRevision, int]:
    """Save title or content: the revision saved and the page's position.

    The notebook's lock shared, the write where the viewer wrote the page (at `base_version`, if
    given), and a read of the page as saved go together, in one round trip. Only when the write
    matches nothing is the page locked and read, to refuse, conflict or save on what it is now.
    """
    now = utcnow()
    params = {
        "page_id": page_id,
        "viewer_id": viewer_id,
        "base_version": base_version,
        "new_title": title,
        "new_content": stored,
        "now": now,
    }
    steps: list[Step] = [
        (SHARE_NOTEBOOK_OF_PAGE, params),
        (_SAVE_DRAFT_OF_THE_VIEWER, params),
        (_PAGE_AS_SAVED, params),
    ]
    _, written, saved = await db.write_together(steps)
    if written.row_count == 0 or saved.first_row is None:
        return await _save_locked(db=db, viewer_id=viewer_id, base_version=base_version, params=params)
    notebook_id, version, title_now, position = saved.first_row
    await touch_after_save(db, notebook_id=notebook_id, now=now)
    return PageRevision(page_id, notebook_id, version, title_now, now), position


async def _save_locked(
    *, db: Database, viewer_id: int, base_version: int | None, params: dict[str, Any]
) -> tuple[PageRevision, int]:
    """`_save_in_place` on the page read under its lock: 404, 403 or 412 on what it is now."""
    async with db.statements_transaction() as run:
        notebook = await share_notebook_of_page(run, page_id=params["page_id"])
        page = await page_for_saving(run, notebook=notebook, page_id=params["page_id"], viewer_id=viewer_id)
        if base_version is not None and base_version != page.version:
            raise VersionConflictError(page.version)
        await run(_SAVE_DRAFT, params | {"new_version": page.version + 1})
    await touch_after_save(db, notebook_id=page.notebook_id, now=params["now"])
    title = page.title if params["new_title"] is None else params["new_title"]
    return PageRevision(page.id, page.notebook_id, page.version + 1, title, params["now"]), page.position


async def _save_and_move(
    *,
    db: Database,
    copies: ReaderCopies,
    viewer_id: int,
    page_id: int,
    title: str | None,
    stored: str | None,
    position: int,
    base_version: int | None,
) -> tuple[PageRevision, int]:
    """Lock the notebook whole and the page, check it, move it and write it (the notebook's
    `updated_at` moves in the same transaction)."""
    async with db.connection_transaction() as connection:
        now = utcnow()
        page = await page_for_writing(connection, page_id=page_id, viewer_id=viewer_id, now=now)
        if base_version is not None and base_version != page.version:
            raise VersionConflictError(page.version)
        await positions.move(connection, page, position)
        await connection.execute(
            _SAVE_DRAFT,
            {
                "page_id": page.id,
                "new_title": title,
                "new_content": stored,
                "new_version": page.version + 1,
                "now": now,
            },
        )
    await copies.renew(page.notebook_id)  # its pages' readers see positions
    title_now = page.title if title is None else title
    return PageRevision(page.id, page.notebook_id, page.version + 1, title_now, now), position
