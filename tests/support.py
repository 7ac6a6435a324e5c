"""Helpers the tests share: accounts, problem+json assertions, and waiting for a server's state."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import aiomysql
import pytest
from quart.typing import TestClientProtocol
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from sinpluma_async.config import Settings
from sinpluma_async.ratelimits.policies import POLICIES

PASSWORD = "correct horse battery"
# Every Redis key of a run of the suite starts with this, so that the run deletes its own keys at
# its end and nothing of a run alongside it.
SUITE_KEY_PREFIX = f"sinpluma:test:{uuid.uuid4().hex[:12]}:"
# SINPLUMA_RATE_LIMITS for tests that are not about limits: far above what any test sends, from one
# address. ws-save keeps its default, which the autosave tests rely on.
RELAXED_RATE_LIMITS = ",".join(f"{name}=1000000/1m" for name in POLICIES if name != "ws-save")
WAIT_SECONDS = 10
CHECK_EVERY_SECONDS = 0.01
INNODB_TRX_RENEWAL_SECONDS = 0.15
SEEDED_GENRES = [
    "Acción y aventura",
    "Antologías",
    "Ciencia ficción",
    "Cuentos",
    "Ensayos",
    "Fantasía",
    "Ficción",
    "Poesía",
    "Teatro",
    "Terror",
]


async def wait_until(condition: Callable[[], Awaitable[bool]], *, every: float = CHECK_EVERY_SECONDS) -> None:
    """Return as soon as `condition` holds; fail if it does not within WAIT_SECONDS.

    For a state that only a server can report (a Redis subscriber, a transaction waiting for a
    row lock): no event says when it begins, so it is asked for every `every` seconds.
    """
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while not await condition():  # noqa: ASYNC110 - nothing to await but the server's answer
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"{condition.__name__} did not hold within {WAIT_SECONDS} s") from None


async def wait_for_a_row_lock_wait(engine: AsyncEngine, *, transactions: int = 1) -> None:
    """Return once `transactions` transactions on the engine's database wait for a row lock.

    InnoDB answers from a copy of its transaction list that it renews only when nobody has read it
    for 100 ms: asked more often than that, it would report the first copy for ever.
    """

    async def waiting_for_row_locks() -> bool:
        return await _row_lock_waits(engine) >= transactions

    await wait_until(waiting_for_row_locks, every=INNODB_TRX_RENEWAL_SECONDS)


async def _row_lock_waits(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        waiting = await connection.execute(
            text(
                "SELECT COUNT(*) FROM information_schema.innodb_trx AS trx"
                " JOIN information_schema.processlist AS process ON process.id = trx.trx_mysql_thread_id"
                " WHERE trx.trx_state = 'LOCK WAIT' AND process.db = DATABASE()"
            )
        )
        count: int = waiting.scalar_one()
        return count


@contextmanager
def counting_statements(app: Any) -> Iterator[list[str]]:
    """Every SQL statement sent on either engine of the app's database while the block runs."""
    statements: list[str] = []
    database = app.extensions["sinpluma"].database

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engines = [database.writer.sync_engine, database.reader.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


@dataclass
class Account:
    """A registered, logged-in user and the headers that authenticate as them."""

    user_id: int
    username: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(client: TestClientProtocol, username: str, **fields: Any) -> dict[str, Any]:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD, **fields}
    response = await client.post("/user/register", json=body)
    assert response.status_code == 201, await response.get_data(as_text=True)
    profile: dict[str, Any] = await response.get_json()
    return profile


async def login(client: TestClientProtocol, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/user/login", json={"username": username, "password": password})
    assert response.status_code == 200, await response.get_data(as_text=True)
    tokens: dict[str, Any] = await response.get_json()
    return tokens


async def make_account(client: TestClientProtocol, username: str) -> Account:
    profile = await register(client, username)
    tokens = await login(client, username)
    return Account(
        user_id=profile["user_id"],
        username=username,
        email=profile["email"],
        password=PASSWORD,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


async def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert that a response is a problem+json document with this status and code, naming the
    request it answers (a replayed one, the request that produced it)."""
    body = await response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.headers["Content-Type"] == "application/problem+json", body
    document: dict[str, Any] = await response.get_json()
    assert document["status"] == status and document["code"] == code, document
    assert document["type"] == "about:blank" and document["title"] and document["detail"]
    if response.headers.get("Idempotent-Replayed") != "true":
        assert document["request_id"] == response.headers["X-Request-ID"], document
    return document


def slate(*paragraphs: str) -> list[dict[str, Any]]:
    """A Slate document with one paragraph per string."""
    return [{"type": "paragraph", "children": [{"text": text}]} for text in paragraphs]


async def create_notebook(client: TestClientProtocol, account: Account, **fields: Any) -> dict[str, Any]:
    body = {"title": "Cuaderno", "genre_id": 1, **fields}
    response = await client.post("/notebooks/", headers=account.headers, json=body)
    assert response.status_code == 201, await response.get_data(as_text=True)
    notebook: dict[str, Any] = await response.get_json()
    return notebook


async def publish_notebook(client: TestClientProtocol, account: Account, notebook_id: int) -> None:
    response = await client.put(
        f"/notebooks/{notebook_id}", headers=account.headers, json={"status": "published"}
    )
    assert response.status_code == 200, await response.get_data(as_text=True)


async def create_page(
    client: TestClientProtocol, account: Account, notebook_id: int, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/pages/", headers=account.headers, json={"notebook_id": notebook_id, **fields}
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    page: dict[str, Any] = await response.get_json()
    return page


async def publish_page(client: TestClientProtocol, account: Account, page_id: int) -> None:
    response = await client.post(f"/pages/{page_id}/publish", headers=account.headers)
    assert response.status_code == 200, await response.get_data(as_text=True)


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_without_redis(tmp_path: Path, sqlite_template: Path, **changes: Any) -> Settings:
    """Embedded settings on a copy of the migrated SQLite file, with a Redis that never answers."""
    database = tmp_path / "sinpluma.db"
    shutil.copyfile(sqlite_template, database)
    return Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        bcrypt_rounds=4,
        jwt_secret=secrets.token_urlsafe(48),
        jwt_secret_generated=False,
        object_dir=tmp_path / "objects",
        **changes,
    )


def unavailable(message: str) -> NoReturn:
    """Skip a test whose service or program this machine lacks; with SINPLUMA_REQUIRE_SERVICES=1
    (CI), fail it instead."""
    if os.environ.get("SINPLUMA_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def redis_key_prefix() -> str:
    """A Redis key prefix of its own for a test or a live service, within the suite's."""
    return f"{SUITE_KEY_PREFIX}{uuid.uuid4().hex}:"


def count_commands_sent(monkeypatch) -> list[str]:
    """What the service sends MariaDB from now on, a command (a round trip) per entry."""
    sent: list[str] = []
    execute_command = aiomysql.Connection._execute_command

    async def counted(connection, command, sql):
        sent.append(sql if isinstance(sql, str) else sql.decode(errors="replace")[:60])
        return await execute_command(connection, command, sql)

    monkeypatch.setattr(aiomysql.Connection, "_execute_command", counted)
    return sent
