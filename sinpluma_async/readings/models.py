from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from sinpluma_async.db.schema import MYSQL_TABLE_OPTIONS, Base
from sinpluma_async.db.types import IdType, UTCDateTime, utcnow


class Reading(Base):
    """A reader following a notebook."""

    __tablename__ = "readings"
    __table_args__ = (
        Index("ix_readings_user_id_followed_at", "user_id", "followed_at"),
        MYSQL_TABLE_OPTIONS,
    )

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    notebook_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("notebooks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
