"""Engines, transactions and the declarative base shared by every domain's models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymysql.constants.SERVER_STATUS import SERVER_STATUS_NO_BACKSLASH_ESCAPES
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, Text, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator

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
DATABASE_TIMEOUT_SECONDS = 5

IdType = BigInteger().with_variant(Integer(), "sqlite")
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def case_insensitive_string(length: int) -> String:
    """A VARCHAR compared ignoring case: NOCASE on SQLite, the table's _ci collation on MySQL."""
    return String(length).with_variant(String(length, collation="NOCASE"), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC with microseconds in the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SEARCH_OBJECT_PREFIXES = ("search_", "ft_")


def managed_by_models(name: str | None, type_: str) -> bool:
    """Whether Alembic should compare a schema object with the models.

    Search structures (FULLTEXT indexes on MySQL, FTS5 tables on SQLite) differ per backend and
    live only in migrations.
    """
    return not (name or "").startswith(SEARCH_OBJECT_PREFIXES) or type_ not in ("table", "index")


def load_models() -> MetaData:
    """Import every domain's models so that Base.metadata describes the whole schema."""
    from sinpluma_async.auth import models as _auth  # noqa: F401
    from sinpluma_async.genres import models as _genres  # noqa: F401
    from sinpluma_async.images import models as _images  # noqa: F401
    from sinpluma_async.notebooks import models as _notebooks  # noqa: F401
    from sinpluma_async.pages import models as _pages  # noqa: F401
    from sinpluma_async.readings import models as _readings  # noqa: F401
    from sinpluma_async.users import models as _users  # noqa: F401

    return Base.metadata


def create_engine(
    url: str, *, pool_size: int = 10, immediate_writes: bool = False, read_only: bool = False
) -> AsyncEngine:
    """An engine configured for its backend: utf8mb4 and READ COMMITTED on MySQL, WAL on SQLite.

    On MySQL every round trip that does no work is avoided: sessions always end their own
    transaction, so the pool does not roll back again on return; read-only engines run in
    autocommit, so a read costs its SELECTs and nothing else; and there is no ping per checkout.
    A connection that died (a database restart) fails one request with a 503, and SQLAlchemy
    then replaces every pooled connection.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": DATABASE_TIMEOUT_SECONDS})
        _configure_sqlite(engine, immediate_writes=immediate_writes)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=DATABASE_TIMEOUT_SECONDS,
        pool_recycle=1800,
        pool_reset_on_return=None,
        isolation_level="AUTOCOMMIT" if read_only else "READ COMMITTED",
        skip_autocommit_rollback=read_only,
        connect_args={"charset": "utf8mb4", "connect_timeout": DATABASE_TIMEOUT_SECONDS},
    )
    _escape_strings_quickly(engine)
    return engine


# PyMySQL's escape_string is a str.translate that leaves its fast path on any non-ASCII
# character, so a 17 KB page of Spanish prose took about 0.36 ms to escape on every save; these
# replacements give the very same text in about 11 us. Each runs only if its character is there:
# a replace that lengthens counts over the whole text first, about 10 us even when nothing is found.
_MYSQL_ESCAPES = (
    ("\\", "\\\\"),
    ("\0", "\\0"),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\032", "\\Z"),
    ('"', '\\"'),
    ("'", "\\'"),
)


def escape_mysql_string(value: str) -> str:
    """The body of a MySQL string literal for `value` (backslash escapes on), as PyMySQL writes it."""
    for character, escaped in _MYSQL_ESCAPES:  # the backslash first: the others add backslashes
        if character in value:
            value = value.replace(character, escaped)
    return value


def _escape_strings_quickly(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        driver = dbapi_connection.driver_connection
        escape_without_backslashes = driver.escape_string

        def escape_string(value: str) -> str:
            if driver.server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES:
                return escape_without_backslashes(value)  # type: ignore[no-any-return]
            return escape_mysql_string(value)

        driver.escape_string = escape_string


def _configure_sqlite(engine: AsyncEngine, *, immediate_writes: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; writers that upgrade a read lock later fail with "database is locked".
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={DATABASE_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate_writes else "BEGIN")


# Runs one prepared write statement in a `Database.statements_transaction`; gives its row count.
RunStatement = Callable[[UpdateBase, Mapping[str, Any]], Awaitable[int]]


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled for the driver: its SQL, and its parameters in order, converted."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def compile(cls, statement: UpdateBase, dialect: Dialect) -> _DriverStatement:
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        processors = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return cls(compiled.string, names, processors)

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any]:
        return [
            params[name] if process is None else process(params[name])
            for name, process in zip(self.names, self.processors, strict=True)
        ]


class Database:
    """The writer and reader engines and the transactions services run in."""

    def __init__(self, url: str, read_url: str | None = None, *, pool_size: int = 10) -> None:
        self.writer = create_engine(url, pool_size=pool_size, immediate_writes=True)
        self.reader = create_engine(read_url or url, pool_size=pool_size, read_only=True)
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)
        self._driver_statements: dict[UpdateBase, _DriverStatement] = {}

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed on success and rolled back on error."""
        async with self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A bare connection in a write transaction, committed on success and rolled back on error.

        For the hottest writes, written as Core statements: they skip the session's bookkeeping.
        """
        async with self.writer.begin() as connection:
            yield connection

    @asynccontextmanager
    async def statements_transaction(self) -> AsyncIterator[RunStatement]:
        """A write transaction of prepared Core statements, each run for its row count.

        For the hottest writes (autosaves). On MySQL the statements go straight to the driver's
        connection, compiled once: SQLAlchemy's own execution of a statement costs about 0.13 ms
        of CPU, a fifth of a websocket save's CPU for its three round trips. Errors are
        SQLAlchemy's, as anywhere else. SQLite runs them the usual way.
        """
        if self.dialect != "mysql":
            async with self.connection_transaction() as connection:

                async def run_here(statement: UpdateBase, params: Mapping[str, Any]) -> int:
                    return (await connection.execute(statement, params)).rowcount

                yield run_here
            return
        async with self.writer.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            cursor = await self._on_driver(connection, "cursor", driver.cursor())

            async def run_on_driver(statement: UpdateBase, params: Mapping[str, Any]) -> int:
                prepared = self._driver_statements.get(statement)
                if prepared is None:
                    prepared = _DriverStatement.compile(statement, self.writer.dialect)
                    self._driver_statements[statement] = prepared
                execution = cursor.execute(prepared.sql, prepared.arguments(params))
                return await self._on_driver(connection, prepared.sql, execution)  # type: ignore[no-any-return]

            try:
                yield run_on_driver
            except BaseException:
                try:
                    await self._on_driver(connection, "ROLLBACK", driver.rollback())
                except (DBAPIError, asyncio.CancelledError):
                    await connection.invalidate()
                raise
            else:
                await self._on_driver(connection, "COMMIT", driver.commit())
            finally:
                await cursor.close()

    async def _on_driver(self, connection: AsyncConnection, sql: str, call: Awaitable[Any]) -> Any:
        """Await a driver call, raising its errors as SQLAlchemy would (and dropping a dead connection)."""
        dialect = self.writer.dialect
        try:
            return await call
        except dialect.loaded_dbapi.Error as error:
            disconnected = dialect.is_disconnect(error, None, None)
            if disconnected:
                await connection.invalidate()
            raise DBAPIError.instance(
                sql, None, error, dialect.loaded_dbapi.Error, disconnected, dialect=dialect
            ) from error

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A session on the read endpoint; each statement sees the latest committed data."""
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> None:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer.dispose()
        await self.reader.dispose()
