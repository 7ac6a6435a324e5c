"""The MySQL fast lane: the autosave's statements and the page's read skip SQLAlchemy's execution,
and strings escape faster than PyMySQL escapes them. MySQL and MariaDB only; SQLite never comes here.

Why it exists: an autosave from a socket's last revision is three round trips (share the
notebook's lock, write the page, commit), and at 1,000 editors the server's CPU per save is what holds
the ack latency down (docs/benchmarks.md, "How the 1,000-editor p99 came down").

- Driver statements. SQLAlchemy's own execution of one statement costs about 0.13 ms of CPU, a
  fifth of a websocket save's CPU for its three round trips. `DriverLane` compiles each prepared
  statement once, when the `Database` is built (SQL, parameter order, bind processors), and runs
  it on the pooled connection's aiomysql connection. With it, the server's CPU per ack at 1,000
  editors went from 2.2 ms to 1.7-2.0 ms and ack p99 from 497 ms to 81-326 ms.
- Escaping. PyMySQL's `escape_string` is a `str.translate` that leaves its fast path on any
  non-ASCII character: a 17 KB page of Spanish prose took about 0.36 ms to escape on every save.
  `escape_mysql_string` gives the very same literal in about 11 us, and every connection of a
  MySQL engine escapes with it (`escape_strings_quickly`), on this lane and SQLAlchemy's alike.

- Reads. A page's read runs on the driver too (`read_row`), its row converted as SQLAlchemy would:
  SQLAlchemy's execution was about a tenth of a 20 KB read's CPU (docs/benchmarks.md).
- Batches. A socket's save from its last revision is a transaction of two statements whose
  second never depends on what the first read; `run_together` sends both with their BEGIN and
  COMMIT as one query, one round trip where there were three (docs/benchmarks.md, "A socket save
  in one round trip").

What the lane keeps: driver errors are raised as SQLAlchemy's, a dropped connection is
discarded, and every failure rolls back before the connection returns to the pool. What it
gives up: these statements do not pass through SQLAlchemy's event hooks, and its connections
come from the pool without a `Connection` around them (db/pooled_drivers.py).
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pymysql.constants import CLIENT
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_NO_BACKSLASH_ESCAPES
from sqlalchemy import Select, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from sinpluma_async.db.pooled_drivers import PooledDriver, pooled_driver
from sinpluma_async.db.statements import (
    Answer,
    PreparedStatement,
    RunStatement,
    Step,
    UnpreparedStatementError,
)

# Each replacement runs only if its character is there: a replace that lengthens counts over the
# whole text first, about 10 us even when nothing is found.
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


def escape_strings_quickly(engine: AsyncEngine) -> None:
    """Make every connection of a MySQL engine escape with `escape_mysql_string`.

    A session in NO_BACKSLASH_ESCAPES mode keeps the driver's own escaping, which doubles quotes.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        driver = dbapi_connection.driver_connection
        escape_without_backslashes = driver.escape_string

        def escape_string(value: str) -> str:
            if driver.server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES:
                return escape_without_backslashes(value)  # type: ignore[no-any-return]
            return escape_mysql_string(value)

        driver.escape_string = escape_string


def accept_batches(engine: AsyncEngine) -> None:
    """Let the MySQL engine's connections take several statements in one query (`run_together`).

    Only for an engine that runs nothing but prepared statements, whose parameters the driver
    escapes (the lane's own engine): on any other, an escaping mistake would let a value add
    statements of its own.
    """

    @event.listens_for(engine.sync_engine, "do_connect")
    def on_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["client_flag"] = params.get("client_flag", 0) | CLIENT.MULTI_STATEMENTS


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for the driver: its SQL, its parameters in order, converted, and for a
    read, how a row of the driver's becomes one of SQLAlchemy's (`row`)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[[Sequence[Any]], Any]

    @classmethod
    def compile(cls, statement: PreparedStatement, dialect: Dialect) -> DriverStatement:
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        processors = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return cls(compiled.string, names, processors, _row_maker(statement, dialect))

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any]:
        return [
            params[name] if process is None else process(params[name])
            for name, process in zip(self.names, self.processors, strict=True)
        ]


def _row_maker(statement: PreparedStatement, dialect: Dialect) -> Callable[[Sequence[Any]], Any]:
    """A read's columns by name, each converted by its type's result processor (aware UTC times,
    booleans), as SQLAlchemy's rows have them."""
    if not isinstance(statement, Select):
        return tuple
    columns = list(statement.selected_columns)
    row_type = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
    converters = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]

    def row(values: Sequence[Any]) -> Any:
        pairs = zip(converters, values, strict=True)
        return row_type(*(value if convert is None else convert(value) for convert, value in pairs))

    return row


class DriverLane:
    """A MySQL engine's prepared statements, run on the driver's connection in one transaction."""

    def __init__(self, engine: AsyncEngine, statements: Iterable[PreparedStatement]) -> None:
        self._engine = engine
        self._compiled = {
            statement: DriverStatement.compile(statement, engine.dialect) for statement in statements
        }

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RunStatement]:
        """A write transaction on a pooled connection's driver, committed on success."""
        async with self._cursor() as (connection, cursor):
            try:
                yield _DriverStatements(self, connection, cursor)
            except BaseException:
                await self._roll_back(connection)
                raise
            await self._on_driver(connection, "COMMIT", connection.driver.commit())

    async def run_alone(self, statement: PreparedStatement, params: Mapping[str, Any]) -> int:
        """Run a prepared statement that commits by itself, on a lane whose engine is in autocommit."""
        async with self._cursor() as (connection, cursor):
            return await self.execute(connection, cursor, statement, params)

    async def run_together(self, steps: Sequence[Step]) -> list[Answer]:
        """Run prepared statements as one transaction, sent with its BEGIN and COMMIT in one batch
        (one round trip): each statement's answer. For a lane whose engine is in autocommit and
        takes batches (`accept_batches`).

        The server stops at the first statement that fails, before the COMMIT, and the transaction
        is then rolled back: a batch commits whole or not at all.
        """
        async with self._cursor() as (connection, cursor):
            sql = ";".join(["BEGIN", *(self._literal(cursor, *step) for step in steps), "COMMIT"])
            try:
                await self._on_driver(connection, sql, cursor.execute(sql))
                answers = []
                for statement, _ in steps:
                    await self._on_driver(connection, sql, cursor.nextset())
                    if isinstance(statement, Select):
                        answers.append(Answer(first_row=await cursor.fetchone()))  # buffered
                    else:
                        answers.append(Answer(row_count=cursor.rowcount))
                await self._on_driver(connection, "COMMIT", cursor.nextset())
            except BaseException:
                await self._roll_back(connection)
                raise
            return answers

    async def read_row(self, statement: Select[Any], params: Mapping[str, Any]) -> Any:
        """A read's first row (`DriverStatement.row`), or None, on a lane whose engine is in autocommit."""
        async with self._cursor() as (connection, cursor):
            await self.execute(connection, cursor, statement, params)
            row = await cursor.fetchone()  # buffered
        return None if row is None else self._prepared(statement).row(row)

    def _prepared(self, statement: PreparedStatement) -> DriverStatement:
        prepared = self._compiled.get(statement)
        if prepared is None:
            raise UnpreparedStatementError(statement)
        return prepared

    def _literal(self, cursor: Any, statement: PreparedStatement, params: Mapping[str, Any]) -> str:
        """The statement with its parameters written in, escaped by the connection as `execute` does."""
        prepared = self._prepared(statement)
        return cursor.mogrify(prepared.sql, prepared.arguments(params))  # type: ignore[no-any-return]

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[tuple[PooledDriver, Any]]:
        """A pooled connection and a cursor on its driver's connection, closed at the end.

        Work cancelled on it (its request gone, or over its time) discards the connection: aiomysql
        closes one whose answer it stopped reading, and the pool would hand it to the next caller.
        """
        async with pooled_driver(self._engine) as connection:
            cursor = await self._on_driver(connection, "cursor", _cursor_of(connection.driver))
            try:
                yield connection, cursor
            except asyncio.CancelledError:
                await connection.invalidate()
                raise
            finally:
                await cursor.close()

    async def _roll_back(self, connection: PooledDriver) -> None:
        """Roll back after a failure; a connection that cannot (dropped, or cut mid-answer) is discarded."""
        try:
            await self._on_driver(connection, "ROLLBACK", connection.driver.rollback())
        except (DBAPIError, asyncio.CancelledError):
            await connection.invalidate()

    async def dispose(self) -> None:
        await self._engine.dispose()

    async def execute(
        self,
        connection: PooledDriver,
        cursor: Any,
        statement: PreparedStatement,
        params: Mapping[str, Any],
    ) -> int:
        """Run a prepared statement on the transaction's cursor: its row count."""
        prepared = self._prepared(statement)
        execution = cursor.execute(prepared.sql, prepared.arguments(params))
        return await self._on_driver(connection, prepared.sql, execution)  # type: ignore[no-any-return]

    async def _on_driver(self, connection: PooledDriver, sql: str, call: Awaitable[Any]) -> Any:
        """Await a driver call, raising its errors as SQLAlchemy would (and dropping a dead connection)."""
        dialect = self._engine.dialect
        try:
            return await call
        except dialect.loaded_dbapi.Error as error:
            # A query cancelled earlier (its request gone) leaves the connection closed in the pool.
            disconnected = dialect.is_disconnect(error, None, None) or bool(connection.driver.closed)
            if disconnected:
                await connection.invalidate()
            raise DBAPIError.instance(
                sql,
                None,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=disconnected,
                dialect=dialect,
            ) from error


class _DriverStatements:
    """`RunStatement` on one driver transaction of a `DriverLane`."""

    def __init__(self, lane: DriverLane, connection: PooledDriver, cursor: Any) -> None:
        self._lane = lane
        self._connection = connection
        self._cursor = cursor

    async def __call__(self, statement: PreparedStatement, params: Mapping[str, Any], /) -> int:
        return await self._lane.execute(self._connection, self._cursor, statement, params)

    async def first_row(self, statement: Select[Any], params: Mapping[str, Any], /) -> tuple[Any, ...] | None:
        await self._lane.execute(self._connection, self._cursor, statement, params)
        return await self._cursor.fetchone()  # type: ignore[no-any-return]  # buffered: no round trip


async def _cursor_of(driver: Any) -> Any:
    # aiomysql checks the connection before it returns the coroutine: a connection closed by a
    # cancelled query raises there, and must raise where `_on_driver` turns it into SQLAlchemy's.
    return await driver.cursor()
