from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from sinpluma_async.db.schema import MYSQL_TABLE_OPTIONS, Base
from sinpluma_async.db.types import IdType, UTCDateTime, utcnow


class NotebookStatus(StrEnum):
    """A draft is its author's alone; a published notebook is open to every reader."""

    DRAFT = "draft"
    PUBLISHED = "published"


_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in NotebookStatus)


class Notebook(Base):
    __tablename__ = "notebooks"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        Index("ix_notebooks_status_updated_at", "status", "updated_at"),
        Index("ix_notebooks_author_id_updated_at", "author_id", "updated_at"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    author_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    genre_id: Mapped[int] = mapped_column(ForeignKey("genres.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    resume: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(10), default=NotebookStatus.DRAFT.value)
    cover_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("images.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


NOTEBOOKS = cast(Table, Notebook.__table__)  # for Core statements on the hot paths
