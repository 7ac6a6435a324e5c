from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sinpluma_async.db.schema import MYSQL_TABLE_OPTIONS, Base
from sinpluma_async.db.types import IdType, LongText, UTCDateTime, utcnow


class Page(Base):
    """A page's draft (title, content, version) and the copy its readers see once published."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("notebook_id", "position"),
        # Counting a notebook's published pages reads this index alone.
        Index("ix_pages_notebook_id_published", "notebook_id", "published"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    notebook_id: Mapped[int] = mapped_column(IdType, ForeignKey("notebooks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(LongText)
    version: Mapped[int] = mapped_column(Integer, default=1)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_title: Mapped[str | None] = mapped_column(String(100))
    published_content: Mapped[str | None] = mapped_column(LongText)
    published_text: Mapped[str | None] = mapped_column(LongText)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


PAGES = cast(Table, Page.__table__)  # for Core statements on the hot paths
