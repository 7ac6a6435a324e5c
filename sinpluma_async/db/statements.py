"""The hot statements a `Database` prepares when it is built, and how a transaction runs them.

`Database(..., prepared=...)` takes the statements once, at start-up (on MySQL it compiles them
for the driver then); `Database.statements_transaction`, `write_together` and `read_row` run only
those, on either backend, so that a statement nobody prepared fails the same way on SQLite as on
MySQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import CursorResult, Row, Select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

# A write, or a read run for its lock or for its first row.
PreparedStatement = UpdateBase | Select[Any]
# A statement and its parameters, in a transaction whose statements are sent together.
Step = tuple[PreparedStatement, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a statement sent with others answered: a write's row count, a read's first row."""

    row_count: int = 0
    first_row: tuple[Any, ...] | None = None


class RunStatement(Protocol):
    """Runs prepared statements in a `Database.statements_transaction`."""

    async def __call__(self, statement: PreparedStatement, params: Mapping[str, Any], /) -> int:
        """Run a write, or a locking read whose rows are not needed: its row count."""

    async def first_row(self, statement: Select[Any], params: Mapping[str, Any], /) -> tuple[Any, ...] | None:
        """Run a read (locking, as a rule) for its first row, or None.

        The values are the driver's: numbers, strings and booleans as the backend stores them
        (MySQL gives a boolean column as 0 or 1).
        """


class UnpreparedStatementError(LookupError):
    """A statement run in `statements_transaction` or `read_row` that its `Database` was not built with."""

    def __init__(self, statement: PreparedStatement) -> None:
        super().__init__(
            "A Database runs only the hot statements it was built with"
            f" (Database(..., prepared=...)); this one was not among them: {statement}"
        )


async def answer_of(run: RunStatement, statement: PreparedStatement, params: Mapping[str, Any]) -> Answer:
    if isinstance(statement, Select):
        return Answer(first_row=await run.first_row(statement, params))
    return Answer(row_count=await run(statement, params))


class ConnectionStatements:
    """`RunStatement` on a SQLAlchemy connection's transaction: SQLite's, where there is no fast lane."""

    def __init__(self, connection: AsyncConnection, prepared: frozenset[PreparedStatement]) -> None:
        self._connection = connection
        self._prepared = prepared

    async def __call__(self, statement: PreparedStatement, params: Mapping[str, Any], /) -> int:
        return (await self._execute(statement, params)).rowcount

    async def first_row(self, statement: Select[Any], params: Mapping[str, Any], /) -> tuple[Any, ...] | None:
        row = await self.row(statement, params)
        return None if row is None else tuple(row)

    async def row(self, statement: Select[Any], params: Mapping[str, Any], /) -> Row[Any] | None:
        """The first row as SQLAlchemy gives it, columns by name."""
        return (await self._execute(statement, params)).first()

    async def _execute(self, statement: PreparedStatement, params: Mapping[str, Any]) -> CursorResult[Any]:
        if statement not in self._prepared:
            raise UnpreparedStatementError(statement)
        return await self._connection.execute(statement, params)
