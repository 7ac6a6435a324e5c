"""Engines configured for their backend, and the `Database` whose transactions services run in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import UpdateBase

from sinpluma_async.db.dialects import is_mysql
from sinpluma_async.db.mysql_fast_lane import DriverLane, escape_strings_quickly
from sinpluma_async.db.statements import RunStatement, UnpreparedStatementError

DATABASE_TIMEOUT_SECONDS = 5


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
    if not is_mysql(parsed.get_backend_name()):
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
    escape_strings_quickly(engine)
    return engine


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


class Database:
    """The writer and reader engines and the transactions services run in.

    `prepared` are the hot write statements `statements_transaction` may run, prepared here,
    once: on MySQL they are compiled for the driver (see `mysql_fast_lane`).
    """

    def __init__(
        self,
        url: str,
        read_url: str | None = None,
        *,
        pool_size: int = 10,
        prepared: Iterable[UpdateBase] = (),
    ) -> None:
        self.writer = create_engine(url, pool_size=pool_size, immediate_writes=True)
        self.reader = create_engine(read_url or url, pool_size=pool_size, read_only=True)
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)
        self._prepared = frozenset(prepared)
        self._driver_lane = DriverLane(self.writer, self._prepared) if self.is_mysql else None

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    @property
    def is_mysql(self) -> bool:
        return is_mysql(self.dialect)

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

    def statements_transaction(self) -> AbstractAsyncContextManager[RunStatement]:
        """A write transaction of prepared Core statements, each run for its row count.

        For the hottest writes (autosaves). Only the statements the database was built with run
        (`UnpreparedStatementError` otherwise). On MySQL they go straight to the driver's
        connection (`mysql_fast_lane`); errors are SQLAlchemy's, as anywhere else. SQLite runs
        them the usual way.
        """
        if self._driver_lane is not None:
            return self._driver_lane.transaction()
        return self._statements_through_sqlalchemy()

    @asynccontextmanager
    async def _statements_through_sqlalchemy(self) -> AsyncIterator[RunStatement]:
        async with self.connection_transaction() as connection:

            async def run_here(statement: UpdateBase, params: Mapping[str, Any]) -> int:
                if statement not in self._prepared:
                    raise UnpreparedStatementError(statement)
                return (await connection.execute(statement, params)).rowcount

            yield run_here

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
