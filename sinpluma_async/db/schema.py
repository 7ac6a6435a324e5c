"""The declarative base every domain's models share, and what Alembic compares with them."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MYSQL_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SEARCH_OBJECT_PREFIXES = ("search_", "ft_")


def managed_by_models(name: str | None, type_: str) -> bool:
    """Whether Alembic should compare a schema object with the models.

    Search structures (FULLTEXT indexes on MySQL, FTS5 tables on SQLite) differ per backend and
    live only in migrations.
    """
    return not (name or "").startswith(SEARCH_OBJECT_PREFIXES) or type_ not in ("table", "index")
