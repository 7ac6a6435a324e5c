"""The app under test, on the embedded backend and on MariaDB + Redis.

Every test that takes `client` runs twice: once on SQLite with the in-process revocation
store, once on MariaDB with Redis. Service tests skip when a service is missing, unless
SINPLUMA_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import pymysql
import pytest
import redis
from quart import Quart
from quart.typing import TestClientProtocol

from sinpluma_async import create_app
from sinpluma_async.cli import migrate
from sinpluma_async.config import Settings
from sinpluma_async.models import load_models
from sinpluma_async.ratelimits.policies import parse_rate_limits
from tests.live import LiveServer, free_port, server_pair, service_environment, still_running
from tests.support import (
    RELAXED_RATE_LIMITS,
    SUITE_KEY_PREFIX,
    Account,
    make_account,
    redis_key_prefix,
    unavailable,
)

MARIADB_SERVER_URL = os.environ.get("TEST_MARIADB_URL", "mysql+aiomysql://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The migrations fill these, and the tests only read them.
SEEDED_TABLES = frozenset({"genres"})
# Children before parents, so that deleting their rows in this order respects the foreign keys.
DATA_TABLES = tuple(
    table.name for table in reversed(load_models().sorted_tables) if table.name not in SEEDED_TABLES
)


@pytest.fixture(scope="session", autouse=True)
def no_server_outlives_the_suite() -> Iterator[None]:
    """Fails the run when a live server it started still has a process at its end, and kills it."""
    yield
    survivors = still_running()
    for server in survivors:
        server.kill()
    assert not survivors, f"server processes outlived the suite: {[server.url for server in survivors]}"


@pytest.fixture(scope="session", autouse=True)
def no_redis_key_outlives_the_suite() -> Iterator[None]:
    """Deletes the run's Redis keys at its end (the keys of other runs are left alone)."""
    yield
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        keys = list(client.scan_iter(match=f"{SUITE_KEY_PREFIX}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    except redis.RedisError:
        pass  # no Redis, no keys


def service_missing(name: str, error: Exception) -> NoReturn:
    unavailable(f"{name} is not reachable: {error}")


def _mysql_connection(database: str | None = None) -> pymysql.Connection[Any]:
    url = MARIADB_SERVER_URL.split("://", 1)[1]
    credentials, _, hostport = url.rpartition("@")
    user, _, password = credentials.partition(":")
    host, _, port = hostport.partition(":")
    return pymysql.connect(
        host=host,
        port=int(port or 3306),
        user=user or "root",
        password=password,
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )


@contextmanager
def migrated_mariadb() -> Iterator[str]:
    """A fresh, migrated database on the MariaDB server, dropped when the block ends."""
    try:
        connection = _mysql_connection()
    except pymysql.MySQLError as error:
        service_missing("MariaDB", error)
    name = f"sinpluma_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = f"{MARIADB_SERVER_URL}/{name}?charset=utf8mb4"
    try:
        migrate(url)
        yield url
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.close()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh, migrated database on the MariaDB server, dropped after the run."""
    with migrated_mariadb() as url:
        yield url


@pytest.fixture(scope="session")
def second_mariadb_url() -> Iterator[str]:
    """Another migrated database, for a read endpoint that nothing replicates into."""
    with migrated_mariadb() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        service_missing("Redis", error)
    return REDIS_URL


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto) on a free loopback port, for the whole run."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        service_missing("The S3 server (moto)", error)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so that migrations run once."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


def _empty_mariadb(url: str) -> None:
    database = url.rsplit("/", 1)[1].split("?", 1)[0]
    connection = _mysql_connection(database)
    with connection.cursor() as cursor:
        for table in DATA_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    connection.close()


@dataclass(frozen=True)
class Backend:
    name: str
    settings: Settings


@pytest.fixture(params=["sqlite", "mariadb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Settings for one backend, on an empty database and a private Redis key prefix.

    Rate limits are counted but raised far above what a test sends: tests about limits set theirs.
    """
    base = Settings(
        bcrypt_rounds=4,
        jwt_secret=secrets.token_urlsafe(48),
        jwt_secret_generated=False,
        object_dir=tmp_path / "objects",
        rate_limits=parse_rate_limits(RELAXED_RATE_LIMITS),
    )
    if request.param == "sqlite":
        database = tmp_path / "sinpluma.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        return Backend("sqlite", replace(base, database_url=f"sqlite+aiosqlite:///{database}"))
    url = request.getfixturevalue("mariadb_url")
    redis_url = request.getfixturevalue("redis_url")
    _empty_mariadb(url)
    run = uuid.uuid4().hex
    services = {
        "database_url": url,
        "redis_url": redis_url,
        "redis_key_prefix": redis_key_prefix(),
        **s3_settings(request.getfixturevalue("s3_endpoint"), bucket=f"test-{run}"),
    }
    return Backend("mariadb", replace(base, **services))


def s3_settings(endpoint: str, *, bucket: str) -> dict[str, object]:
    return {
        "s3_endpoint": endpoint,
        "s3_access_key": "test-access-key",
        "s3_secret_key": "test-secret-key",
        "s3_secure": False,
        "s3_bucket": bucket,
    }


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return backend.settings


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Quart]:
    application = create_app(settings)
    async with application.test_app():
        yield application


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
async def writer(client: TestClientProtocol) -> Account:
    return await make_account(client, "writer")


@pytest.fixture
async def reader(client: TestClientProtocol) -> Account:
    """A second user, for what the first user's things look like to someone else."""
    return await make_account(client, "reader")


@pytest.fixture(scope="module")
def live_environment(mariadb_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    """The environment of a live Hypercorn on MariaDB + Redis + S3, one database per module."""
    return service_environment(mariadb_url=mariadb_url, redis_url=redis_url, s3_endpoint=s3_endpoint)


@pytest.fixture(scope="module")
def live_servers(live_environment: dict[str, str]) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two Hypercorn processes sharing that database, Redis and bucket."""
    with server_pair(live_environment) as pair:
        yield pair
