"""The hot statements a `Database` prepares when it is built, and how a transaction runs them.

`Database(..., prepared=...)` takes the statements once, at start-up (on MySQL it compiles them
for the driver then); `Database.statements_transaction` runs only those, on either backend, so
that a statement nobody prepared fails the same way on SQLite as on MySQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select
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
    """A statement run in `statements_transaction` that its `Database` was not built with."""

    def __init__(self, statement: PreparedStatement) -> None:
        super().__init__(
            "statements_transaction runs only the statements its Database was built with"
            f" (Database(..., prepared=...)); this one was not among them: {statement}"
        )
