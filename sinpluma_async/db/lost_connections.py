"""A MySQL connection the server (or the network) reset is a lost connection, under uvloop too.

aiomysql writes requests with the transport's plain `write`. Under uvloop, writing to a transport
that the peer has reset raises RuntimeError ("the handler is closed") instead of an OSError, and
aiomysql lets it through: SQLAlchemy then sees neither a database error nor a disconnect, answers
500, and puts the dead connection back in the pool, where every later request fails with it too.
Here the write raises pymysql's "server has gone away" (2006), as pymysql itself does for a write
that fails: a disconnect, so the request is a 503 and the pool is refilled with live connections.

The same reset arriving while a new connection is set up closes its transport before aiomysql
sets its socket options, and aiomysql raises a bare RuntimeError ("Transport does not expose
socket instance") that it takes for a bug of its own. Here that connection fails as any refused
connection does, with "can't connect" (2003).
(tests/test_seams.py checks the methods these replace.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiomysql
import pymysql

SERVER_GONE_AWAY = 2006
CANT_CONNECT = 2003
_installed = False


def _write_bytes(self: Any, data: bytes) -> None:
    try:
        self._writer.write(data)
    except RuntimeError as error:
        self.close()
        raise pymysql.err.OperationalError(
            SERVER_GONE_AWAY, f"MySQL server has gone away ({error})"
        ) from error


def _connect_failing_cleanly(
    connect: Callable[[Any], Awaitable[None]],
) -> Callable[[Any], Awaitable[None]]:
    async def _connect(self: Any) -> None:
        try:
            await connect(self)
        except RuntimeError as error:
            raise pymysql.err.OperationalError(
                CANT_CONNECT, f"Can't connect to MySQL server ({error})"
            ) from error

    return _connect


def treat_resets_as_lost_connections() -> None:
    """Install the replacements of aiomysql's write and connect, once per process."""
    global _installed
    if not _installed:
        aiomysql.Connection._write_bytes = _write_bytes
        aiomysql.Connection._connect = _connect_failing_cleanly(aiomysql.Connection._connect)
        _installed = True
