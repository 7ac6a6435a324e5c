"""The database stops answering, resets its connections, or refuses new ones, under a live server.

Calls that need it answer 503 with Retry-After within the database's bound (WORK_SECONDS), nothing
is half written, and the service recovers by itself within 5 s of the fault clearing.
"""

from __future__ import annotations

import uuid

import httpx
import pymysql
import pytest
from sqlalchemy.engine import make_url

from sinpluma_async.db.engines import WORK_SECONDS
from tests.drills.conftest import CLIENT_TIMEOUT_SECONDS, Drill, User, seconds_until, timed

# The bound on database work, plus the request's own time around it.
DATABASE_FAILURE_SECONDS = WORK_SECONDS + 2


def notebooks_titled(drill: Drill, title: str) -> int:
    url = make_url(drill.database_url)
    connection = pymysql.connect(
        host=url.host, port=url.port or 3306, user=url.username, database=url.database, autocommit=True
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM notebooks WHERE title = %s", (title,))
        (count,) = cursor.fetchone()
    return int(count)


def create_notebook(drill: Drill, user: User, title: str) -> httpx.Response:
    return httpx.post(
        f"{drill.server.url}/notebooks/",
        headers=user.headers,
        json={"title": title, "genre_id": 1},
        timeout=CLIENT_TIMEOUT_SECONDS,
    )


def mine(drill: Drill, user: User) -> httpx.Response:
    return httpx.get(
        f"{drill.server.url}/notebooks/?scope=mine", headers=user.headers, timeout=CLIENT_TIMEOUT_SECONDS
    )


@pytest.mark.parametrize("mode", ["blackhole", "reset", "refuse"])
def test_writes_answer_503_and_nothing_is_half_written(drill, user, mode):
    assert create_notebook(drill, user, "before").status_code == 201
    title = f"cut {mode} {uuid.uuid4().hex[:8]}"
    with drill.database.fault(mode):
        refused, refused_after = timed(lambda: create_notebook(drill, user, title))
    # Recovered once a write and a read (each engine's pool) both succeed.
    recovered_after = seconds_until(lambda: create_notebook(drill, user, f"{title} after"), 201)
    recovered_after += seconds_until(lambda: mine(drill, user), 200)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] and refused.headers["Content-Type"] == "application/problem+json"
    assert refused_after < DATABASE_FAILURE_SECONDS
    assert notebooks_titled(drill, title) == 0
    assert notebooks_titled(drill, f"{title} after") >= 1
    print(
        f"\nDRILL database {mode}: 503 after {refused_after:.2f} s;"
        f" recovered {recovered_after:.2f} s after the fault cleared"
    )


@pytest.mark.parametrize("mode", ["blackhole", "reset", "refuse"])
def test_readiness_names_the_database_while_it_is_cut(drill, mode):
    with drill.database.fault(mode):
        ready, ready_after = timed(
            lambda: httpx.get(f"{drill.server.url}/readyz", timeout=CLIENT_TIMEOUT_SECONDS)
        )
    assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
    assert ready_after < DATABASE_FAILURE_SECONDS
    seconds_until(lambda: httpx.get(f"{drill.server.url}/readyz"), 200)
