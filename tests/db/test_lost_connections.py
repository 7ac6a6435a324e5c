"""A connection to MySQL that is reset while it is being set up fails as a refused one does:
with a database error the service answers 503 for, never a bare RuntimeError (a 500)."""

from __future__ import annotations

import aiomysql
import pymysql
import pytest
from sqlalchemy.engine import make_url

from sinpluma_async.db.lost_connections import CANT_CONNECT, treat_resets_as_lost_connections


class ResetOnArrival(aiomysql.Connection):  # type: ignore[misc]
    """What uvloop does when the reset lands before aiomysql sets the socket's options."""

    def _set_keep_alive(self) -> None:
        raise RuntimeError("Transport does not expose socket instance")


async def test_a_connection_reset_while_it_is_set_up_is_a_failed_connection(mariadb_url: str) -> None:
    treat_resets_as_lost_connections()
    url = make_url(mariadb_url)
    connection = ResetOnArrival(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        db=url.database,
    )
    with pytest.raises(pymysql.err.OperationalError) as failure:
        await connection._connect()
    assert failure.value.args[0] == CANT_CONNECT
    assert connection._writer is None
