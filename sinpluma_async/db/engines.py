"""Engines configured for their backend, and the `Database` whose transactions services run in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Select, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from sinpluma_async.db.column_descriptions_once import parse_column_descriptions_once
from sinpluma_async.db.dialects import is_mysql
from sinpluma_async.db.group_commit import GroupCommit, RunTogether
from sinpluma_async.db.lost_connections import treat_resets_as_lost_connections
from sinpluma_async.db.mysql_fast_lane import DriverLane, accept_batches, escape_strings_quickly
from sinpluma_async.db.routing import reads_go_to_writer
from sinpluma_async.db.statements import (
    Answer,
    ConnectionStatements,
    PreparedStatement,
    RunStatement,
    Step,
    answer_of,
)
from sinpluma_async.observability.metrics import DATABASE_CONNECTIONS_IN_USE

DATABASE_TIMEOUT_SECONDS = 5
# A transaction or a read, lock waits and the pool's wait included, gives up after this long.
WORK_SECONDS = 10
INNODB_DEADLOCK = 1213  # MySQL's "Deadlock found when trying to get lock; try restarting transaction"


class DatabaseTimeoutError(OperationalError):
    """The database did not finish a transaction or a read in time: treated as unreachable (503)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"-- database work over {seconds:g} s", None, TimeoutError())


@asynccontextmanager
async def bounded(seconds: float = WORK_SECONDS) -> AsyncIterator[None]:
    """Database work that gives up after `seconds`. A server that stops answering mid-query (a
    network that drops its packets) would otherwise hold the request until TCP gives up, minutes
    later: the driver has no read timeout."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError as error:
        if deadline.expired():
            raise DatabaseTimeoutError(seconds) from error
        raise


def _bounded_runs(run_together: RunTogether) -> RunTogether:
    async def run_bounded(steps: Sequence[Step]) -> list[Answer]:
        async with bounded():
            return await run_together(steps)

    return run_bounded


def create_engine(
    url: str, *, pool_size: int = 10, immediate_writes: bool = False, autocommit: bool = False
) -> AsyncEngine:
    """An engine configured for its backend: utf8mb4 and READ COMMITTED on MySQL, WAL on SQLite.

    On MySQL every round trip that does no work is avoided: sessions always end their own
    transaction, so the pool does not roll back again on return; `autocommit` engines (reads, and
    writes of a single statement) run each statement as its own transaction, so it costs that
    statement and nothing else; and there is no ping per checkout.
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
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
        skip_autocommit_rollback=autocommit,
        connect_args={"charset": "utf8mb4", "connect_timeout": DATABASE_TIMEOUT_SECONDS},
    )
    escape_strings_quickly(engine)
    treat_resets_as_lost_connections()
    parse_column_descriptions_once()
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


def count_connections_in_use(engine: AsyncEngine, name: str) -> None:
    """Keep the gauge of connections checked out of the engine's pool."""
    in_use = DATABASE_CONNECTIONS_IN_USE.labels(name)
    event.listen(engine.sync_engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: in_use.dec())


class Database:
    """The writer and reader engines and the transactions services run in.

    `prepared` are the hot statements `statements_transaction`, `write_together` and `read_row`
    run, prepared here, once: on MySQL they are compiled for the driver (see `mysql_fast_lane`).
    """

    def __init__(
        self,
        url: str,
        read_url: str | None = None,
        *,
        pool_size: int = 10,
        prepared: Iterable[PreparedStatement] = (),
    ) -> None:
        self.has_replica = read_url is not None and read_url != url
        self.writer = create_engine(url, pool_size=pool_size, immediate_writes=True)
        self.reader = create_engine(read_url or url, pool_size=pool_size, autocommit=True)
        count_connections_in_use(self.writer, "writer")
        count_connections_in_use(self.reader, "reader")
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)
        self._prepared = frozenset(prepared)
        self._driver_lane: DriverLane | None = None
        self.one_trip_writer: AsyncEngine | None = None
        self._one_trip_writes: DriverLane | None = None
        self._driver_reads: DriverLane | None = None
        self._group_commit: GroupCommit | None = None
        if self.is_mysql:
            # Writes sent in one round trip: socket saves, and a notebook's touch after a save.
            self.one_trip_writer = create_engine(url, pool_size=pool_size, autocommit=True)
            accept_batches(self.one_trip_writer)
            count_connections_in_use(self.one_trip_writer, "writer")
            self._driver_lane = DriverLane(self.writer, self._prepared)
            self._one_trip_writes = DriverLane(self.one_trip_writer, self._prepared)
            self._driver_reads = DriverLane(self.reader, self._prepared)
            self._group_commit = GroupCommit(_bounded_runs(self._one_trip_writes.run_together))

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    @property
    def is_mysql(self) -> bool:
        return is_mysql(self.dialect)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed on success and rolled back on error."""
        async with bounded(), self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A bare connection in a write transaction, committed on success and rolled back on error.

        For the hottest writes, written as Core statements: they skip the session's bookkeeping.
        """
        async with bounded(), self.writer.begin() as connection:
            yield connection

    def statements_transaction(self) -> AbstractAsyncContextManager[RunStatement]:
        """A write transaction of prepared Core statements, each run for its row count.

        For the hottest writes (autosaves). Only the statements the database was built with run
        (`UnpreparedStatementError` otherwise). On MySQL they go straight to the driver's
        connection (`mysql_fast_lane`); errors are SQLAlchemy's, as anywhere else. SQLite runs
        them the usual way.
        """
        if self._driver_lane is not None:
            return self._bounded_lane(self._driver_lane)
        return self._statements_through_sqlalchemy()

    async def write_alone(self, statement: PreparedStatement, params: Mapping[str, Any]) -> int:
        """Run one prepared statement as a transaction of its own: its row count.

        On MySQL it runs in autocommit, one round trip where a transaction would take two. A
        statement alone that InnoDB refuses to end a deadlock has been undone: it is sent once
        more, and then waits behind the transaction that won.
        """
        if self._one_trip_writes is None:
            async with self.statements_transaction() as run:
                return await run(statement, params)
        try:
            async with bounded():
                return await self._one_trip_writes.run_alone(statement, params)
        except DBAPIError as error:
            if getattr(error.orig, "args", ())[:1] != (INNODB_DEADLOCK,):
                raise
        async with bounded():
            return await self._one_trip_writes.run_alone(statement, params)

    async def write_together(self, steps: Sequence[Step]) -> list[Answer]:
        """Run prepared statements as one transaction: each one's answer (a write's row count, a
        read's first row).

        On MySQL they are sent at once with the BEGIN and the COMMIT, one round trip, so no
        statement may depend on what an earlier one read. The transaction commits whole or not at
        all: the server stops at the first statement that fails. Transactions that arrive while
        others are being written are committed together (`group_commit`), each still whole or not
        at all, each failure its own.
        """
        if self._group_commit is None:
            async with self.statements_transaction() as run:
                return [await answer_of(run, statement, params) for statement, params in steps]
        async with bounded():
            return await self._group_commit.run(steps)

    @asynccontextmanager
    async def _bounded_lane(self, lane: DriverLane) -> AsyncIterator[RunStatement]:
        async with bounded(), lane.transaction() as run:
            yield run

    @asynccontextmanager
    async def _statements_through_sqlalchemy(self) -> AsyncIterator[RunStatement]:
        async with self.connection_transaction() as connection:
            yield ConnectionStatements(connection, self._prepared)

    @asynccontextmanager
    async def snapshot(self, *, latest: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reads; each statement sees the latest data committed where it reads.

        That is the read endpoint, which may lag, unless this request's caller wrote recently
        (`db/routing.py`) or the caller needs the `latest` data whoever asks (credentials, or
        what made a write fail): then the writer. Nothing is ever written through the read endpoint.
        """
        sessions = self._write_sessions if self._reads_from_writer(latest) else self._read_sessions
        async with bounded(), sessions() as session:
            yield session

    @asynccontextmanager
    async def reading(self, *, latest: bool = False) -> AsyncIterator[AsyncConnection]:
        """A bare connection for the hottest reads, written as Core statements; it reads where
        `snapshot` would."""
        engine = self.writer if self._reads_from_writer(latest) else self.reader
        async with bounded(), engine.connect() as connection:
            yield connection

    async def read_row(
        self, statement: Select[Any], params: Mapping[str, Any], *, latest: bool = False
    ) -> Any:
        """The first row of a prepared read, or None, read where `reading` would; its columns by
        name, converted as SQLAlchemy converts them. On MySQL it comes straight from the driver."""
        lane = self._one_trip_writes if self._reads_from_writer(latest) else self._driver_reads
        if lane is None:
            async with self.reading(latest=latest) as connection:
                return await ConnectionStatements(connection, self._prepared).row(statement, params)
        async with bounded():
            return await lane.read_row(statement, params)

    def _reads_from_writer(self, latest: bool) -> bool:
        return self.has_replica and (latest or reads_go_to_writer())

    async def ping(self) -> None:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._group_commit is not None:
            await self._group_commit.close()
        await self.writer.dispose()
        await self.reader.dispose()
        if self._one_trip_writes is not None:
            await self._one_trip_writes.dispose()
