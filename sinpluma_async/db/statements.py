"""The hot write statements a `Database` prepares when it is built, and how a transaction runs them.

`Database(..., prepared=...)` takes the statements once, at start-up (on MySQL it compiles them
for the driver then); `Database.statements_transaction` runs only those, on either backend, so
that a statement nobody prepared fails the same way on SQLite as on MySQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.sql.dml import UpdateBase

# Runs one prepared write statement in a `Database.statements_transaction`; gives its row count.
RunStatement = Callable[[UpdateBase, Mapping[str, Any]], Awaitable[int]]


class UnpreparedStatementError(LookupError):
    """A statement run in `statements_transaction` that its `Database` was not built with."""

    def __init__(self, statement: UpdateBase) -> None:
        super().__init__(
            "statements_transaction runs only the statements its Database was built with"
            f" (Database(..., prepared=...)); this one was not among them: {statement}"
        )
