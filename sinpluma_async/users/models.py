from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sinpluma_async.db.schema import MYSQL_TABLE_OPTIONS, Base
from sinpluma_async.db.types import IdType, UTCDateTime, case_insensitive_string, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(case_insensitive_string(30), unique=True)
    email: Mapped[str] = mapped_column(case_insensitive_string(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(60))
    bio: Mapped[str] = mapped_column(String(500), default="")
    avatar_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("images.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
