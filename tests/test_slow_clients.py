"""Slow clients: heads sent a byte at a time are cut at the read timeout, and /healthz answers meanwhile.

The same measurement as bench/slow_clients.py, with fewer connections and a read timeout
shortened on the live server's command line.
"""

from __future__ import annotations

import secrets
import shutil

from bench.slow_clients import measure
from tests.live import LiveServer

CONNECTIONS = 100
READ_TIMEOUT = 2
INTERVAL = 0.25
# The head is timed from the connection's start; the cut comes with the first byte past the timeout.
CUT_BY = READ_TIMEOUT + INTERVAL + 1.5


async def test_slow_heads_are_cut_at_the_read_timeout_while_healthz_answers(tmp_path, sqlite_template):
    shutil.copyfile(sqlite_template, tmp_path / "slow.db")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}"
    environment = {
        "SINPLUMA_DATABASE_URL": database_url,
        "SINPLUMA_OBJECT_DIR": str(tmp_path / "objects"),
        "SINPLUMA_JWT_SECRET": secrets.token_urlsafe(48),
    }
    with LiveServer(environment, flags=["--read-timeout", str(READ_TIMEOUT)]) as server:
        result = await measure(
            server.url, connections=CONNECTIONS, interval=INTERVAL, read_timeout=READ_TIMEOUT
        )
    assert result["refused"] == 0 and result["never_cut"] == 0, result
    assert result["cut"] == CONNECTIONS, result
    assert result["cut_after_seconds"]["min"] >= READ_TIMEOUT, result
    assert result["cut_after_seconds"]["max"] <= CUT_BY, result
    assert result["healthz_failures"] == [], result
    assert result["healthz_ms_while_slow"]["count"] >= 10 and result["healthz_ms_after_cut"]["count"] >= 10, (
        result
    )
