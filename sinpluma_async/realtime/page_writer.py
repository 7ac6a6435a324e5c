"""One socket's saves: within the ws-save policy, coalesced per page, each page written one save at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sinpluma_async.contract import format_timestamp
from sinpluma_async.db.engines import Database
from sinpluma_async.errors import DATABASE_UNAVAILABLE, APIError, VersionConflictError
from sinpluma_async.freshness.recent import RecentWrites
from sinpluma_async.observability.metrics import AUTOSAVE_ACK_SECONDS, AUTOSAVE_ACKS, RATE_LIMITED
from sinpluma_async.pages.announcements import SaveAnnouncer
from sinpluma_async.pages.saves import PageRevision, save_draft
from sinpluma_async.realtime.protocol import (
    AckMessage,
    ConflictMessage,
    ErrorMessage,
    MessageError,
    SaveMessage,
    ServerMessage,
)

log = logging.getLogger(__name__)


class SaveLimit(Protocol):
    """The socket's `ws-save` policy: at most `amount` saves `per` window ("a second")."""

    amount: int
    per: str

    def admit(self) -> bool:
        """Count one more save if it fits."""


@dataclass
class PageWriter:
    """The saves of one page from one socket: one written at a time, the newest waiting."""

    pending: SaveMessage | None = None
    superseded: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    last_base: int | None = None
    revision: PageRevision | None = None
    # When each save waiting for its answer arrived, by client_seq.
    arrived: dict[int, float] = field(default_factory=dict)


class EditorSaves:
    """Writes an editor socket's saves, and answers each with an ack, a conflict or an error."""

    def __init__(
        self,
        *,
        db: Database,
        announcer: SaveAnnouncer,
        recent_writes: RecentWrites,
        viewer_id: int,
        origin: str,
        push: Callable[[ServerMessage], None],
        save_limit: SaveLimit | None,
    ) -> None:
        self._db = db
        self._announcer = announcer
        self._recent_writes = recent_writes
        self._viewer_id = viewer_id
        self._origin = origin
        self._push = push
        self._writers: dict[int, PageWriter] = {}
        self._save_limit = save_limit

    def accept(self, save: SaveMessage) -> None:
        """Queue a save for writing; a save beyond the ws-save policy is a MessageError (429)."""
        limit = self._save_limit
        if limit is not None and not limit.admit():
            RATE_LIMITED.labels("ws-save").inc()
            raise MessageError(
                429, "rate_limited", f"At most {limit.amount} saves {limit.per}", save.client_seq
            )
        writer = self._writers.setdefault(save.page_id, PageWriter())
        writer.arrived[save.client_seq] = time.perf_counter()
        if writer.pending is not None:
            writer.superseded.append(writer.pending.client_seq)
        writer.pending = save
        if writer.task is None or writer.task.done():
            writer.task = asyncio.create_task(self._write(writer))

    async def settle(self) -> None:
        """Let the saves already being written finish, and their answers be queued."""
        writing = [writer.task for writer in self._writers.values() if writer.task is not None]
        if writing:
            await asyncio.gather(*writing, return_exceptions=True)

    async def _write(self, writer: PageWriter) -> None:
        # The newest save is taken only when a write starts: every save that arrived before it
        # is acked with the version that holds the newest one.
        while writer.pending is not None:
            save, writer.pending = writer.pending, None
            acked = [*writer.superseded, save.client_seq]
            writer.superseded = []
            base = save.base_version
            if base is not None and base == writer.last_base and writer.revision is not None:
                # The client had not yet seen the ack of our previous write of this page when it
                # sent this one: that write is the base it meant.
                base = writer.revision.version
            # Shielded: a socket closing mid-write must not abandon a commit half done.
            await asyncio.shield(self._write_one(writer, save, base, acked))
            for seq in acked:
                writer.arrived.pop(seq, None)

    async def _write_one(
        self, writer: PageWriter, save: SaveMessage, base: int | None, acked: list[int]
    ) -> None:
        try:
            saved = await save_draft(
                db=self._db,
                announcer=self._announcer,
                origin=self._origin,
                viewer_id=self._viewer_id,
                page_id=save.page_id,
                title=save.title,
                content=save.content,
                base_version=base,
                since=writer.revision,
            )
        except VersionConflictError as conflict:
            current = conflict.current_version
            for seq in acked:
                self._push(ConflictMessage(page_id=save.page_id, client_seq=seq, current_version=current))
            return
        except APIError as error:
            self._refuse(acked, error.status, error.code, error.detail or error.code)
            return
        except DATABASE_UNAVAILABLE:
            log.warning("Save of page %s failed: database unavailable", save.page_id)
            self._refuse(acked, 503, "service_unavailable", "The database is unavailable; nothing was saved")
            return
        except Exception:
            # A save that fails for a reason of ours must still be answered, or the editor
            # would wait for its ack forever.
            log.exception("Save of page %s failed", save.page_id)
            self._refuse(acked, 500, "internal_error", "The server failed to save this change")
            return
        writer.last_base, writer.revision = save.base_version, saved
        await self._recent_writes.record(self._viewer_id)
        self._ack(acked, saved)
        answered = time.perf_counter()
        for seq in acked:
            AUTOSAVE_ACK_SECONDS.observe(answered - writer.arrived.get(seq, answered))
        AUTOSAVE_ACKS.inc(len(acked))

    def _ack(self, client_seqs: list[int], saved: PageRevision) -> None:
        saved_at = format_timestamp(saved.saved_at)
        for seq in client_seqs:
            self._push(
                AckMessage(page_id=saved.page_id, client_seq=seq, version=saved.version, saved_at=saved_at)
            )

    def _refuse(self, client_seqs: list[int], status: int, code: str, detail: str) -> None:
        for seq in client_seqs:
            self._push(ErrorMessage(client_seq=seq, status=status, code=code, detail=detail))
