"""A live server whose Redis, database and object storage each go through a fault proxy."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import migrated_mariadb
from tests.faults import FaultProxy
from tests.live import LiveServer, service_environment
from tests.support import PASSWORD

# Every answer, a 503 included, must come well within this: no call waits on a library default.
CLIENT_TIMEOUT_SECONDS = 30
# After a fault clears, the service answers normally again within this, by itself.
RECOVERY_SECONDS = 5
POLL_SECONDS = 0.05


@dataclass
class Drill:
    server: LiveServer
    redis: FaultProxy
    database: FaultProxy
    storage: FaultProxy
    database_url: str
    server_environment: dict[str, str]


def proxied_host(url: str, proxy: FaultProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def drill(redis_url: str, s3_endpoint: str) -> Iterator[Drill]:
    """One server for every drill of a module: it must recover from each without a restart."""
    redis_target = urlsplit(redis_url)
    s3_host, _, s3_port = s3_endpoint.partition(":")
    with migrated_mariadb() as database_url:
        database_target = make_url(database_url)
        with (
            FaultProxy(redis_target.hostname or "127.0.0.1", redis_target.port or 6379) as redis,
            FaultProxy(database_target.host or "127.0.0.1", database_target.port or 3306) as database,
            FaultProxy(s3_host, int(s3_port)) as storage,
        ):
            environment = service_environment(
                mariadb_url=proxied_host(database_url, database),
                redis_url=f"redis://{redis.address}{redis_target.path}",
                s3_endpoint=storage.address,
            )
            with LiveServer(environment) as server:
                yield Drill(server, redis, database, storage, database_url, environment)


class User:
    """A registered, logged-in user of the drill's server."""

    def __init__(self, server: LiveServer) -> None:
        self.username = f"d{uuid.uuid4().hex[:12]}"
        body = {"username": self.username, "email": f"{self.username}@example.com", "password": PASSWORD}
        assert httpx.post(f"{server.url}/user/register", json=body).status_code == 201
        tokens = httpx.post(
            f"{server.url}/user/login", json={"username": self.username, "password": PASSWORD}
        ).json()
        self.token: str = tokens["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def user(drill: Drill) -> User:
    return User(drill.server)


@pytest.fixture
def page_id(drill: Drill, user: User) -> int:
    """A page of the user's, in a new notebook."""
    url = drill.server.url
    notebook = httpx.post(f"{url}/notebooks/", headers=user.headers, json={"title": "Drill", "genre_id": 1})
    body = {"notebook_id": notebook.json()["notebook_id"]}
    page_id: int = httpx.post(f"{url}/pages/", headers=user.headers, json=body).json()["page_id"]
    return page_id


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def seconds_until(call: Callable[[], httpx.Response], status: int) -> float:
    """How long until `call` answers `status`; fails after RECOVERY_SECONDS."""
    started = time.monotonic()
    while True:
        try:
            if call().status_code == status:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        elapsed = time.monotonic() - started
        assert elapsed < RECOVERY_SECONDS, f"not recovered within {RECOVERY_SECONDS} s: {call().text}"
        time.sleep(POLL_SECONDS)
