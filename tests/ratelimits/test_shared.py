"""Counters shared by every process through Redis, and counted in memory while Redis is away."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import replace

import httpx
import pytest
import redis

from sinpluma_async import create_app
from sinpluma_async.ratelimits import shared
from sinpluma_async.ratelimits.policies import parse_rate_limits
from tests.live import server_pair
from tests.ratelimits.support import peer, refused, with_relaxed
from tests.support import PASSWORD, closed_port, register, settings_without_redis, wait_until


@contextlib.asynccontextmanager
async def app_without_redis(tmp_path, sqlite_template, limits):
    settings = settings_without_redis(
        tmp_path,
        sqlite_template,
        rate_limits=parse_rate_limits(with_relaxed(limits)),
    )
    app = create_app(settings)
    async with app.test_app():
        yield app


async def test_while_redis_is_down_every_process_counts_in_memory(tmp_path, sqlite_template):
    async with app_without_redis(tmp_path, sqlite_template, "read=2/1m") as app:
        client = app.test_client()
        for _ in range(2):
            assert (await client.get("/genres/")).status_code == 200
        await refused(await client.get("/genres/"), "read")
        assert app.extensions["sinpluma"].rate_limits.counters.down


async def test_while_redis_is_down_a_login_is_counted_never_a_500(tmp_path, sqlite_template):
    async with app_without_redis(tmp_path, sqlite_template, "login=2/10m") as app:
        client = app.test_client()
        await register(client, "ana")
        assert (
            await client.post("/user/login", json={"username": "ana", "password": PASSWORD})
        ).status_code == 200
        for _ in range(2):
            response = await client.post("/user/login", json={"username": "ana", "password": "wrong"})
            assert response.status_code == 401
        response = await client.post("/user/login", json={"username": "ana", "password": PASSWORD})
        await refused(response, "login")


class RedisProxy:
    """A TCP relay in front of the test Redis that can be taken down and brought back on its port."""

    def __init__(self, target: str) -> None:
        host, port = target.split("://", 1)[1].split("/", 1)[0].split(":")
        self.target = (host, int(port))
        self.port = closed_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.relays: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        await asyncio.gather(*self.relays, return_exceptions=True)
        await self.server.wait_closed()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        relay = asyncio.current_task()
        assert relay is not None
        self.relays.add(relay)
        relay.add_done_callback(self.relays.discard)
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_counting_goes_back_to_redis_when_it_answers_again(settings, monkeypatch):
    monkeypatch.setattr(shared, "RETRY_SECONDS", 0.05)
    proxy = RedisProxy(settings.redis_url)
    await proxy.start()
    limits = parse_rate_limits(with_relaxed("read=1000/1m"))
    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{proxy.port}/0", rate_limits=limits))
    store = redis.Redis.from_url(settings.redis_url)
    counter = f"{settings.redis_key_prefix}ratelimit:read:address:203.0.113.1"
    try:
        async with app.test_app():
            client = app.test_client()
            counters = app.extensions["sinpluma"].rate_limits.counters
            assert (await client.get("/genres/", **peer("203.0.113.1"))).status_code == 200
            assert store.llen(counter) == 1
            await proxy.stop()
            assert (await client.get("/genres/", **peer("203.0.113.1"))).status_code == 200
            assert counters.down and store.llen(counter) == 1
            await proxy.start()

            async def shared_again() -> bool:
                return (
                    await client.get("/genres/", **peer("203.0.113.1"))
                ).status_code == 200 and store.llen(counter) > 1

            await wait_until(shared_again)
            assert not counters.down
    finally:
        store.close()
        if proxy.server is not None and proxy.server.is_serving():
            await proxy.stop()


def test_two_processes_share_their_counters(live_environment):
    environment = live_environment | {"SINPLUMA_RATE_LIMITS": with_relaxed("read=4/1m,login=2/10m")}
    with server_pair(environment) as (first, second):
        for server in (first, second, first, second):
            assert httpx.get(f"{server.url}/genres/").status_code == 200
        for server in (first, second):
            response = httpx.get(f"{server.url}/genres/")
            assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
        # The live servers share the run's database with other modules: a name of its own.
        name = f"ana{secrets.token_hex(4)}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert httpx.post(f"{first.url}/user/register", json=body).status_code == 201
        wrong = {"username": name, "password": "wrong password"}
        assert httpx.post(f"{first.url}/user/login", json=wrong).status_code == 401
        assert httpx.post(f"{second.url}/user/login", json=wrong).status_code == 401
        right = {"username": name, "password": PASSWORD}
        response = httpx.post(f"{first.url}/user/login", json=right)
        assert response.status_code == 429 and response.headers["RateLimit-Policy"] == '"login";q=2;w=600'


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_limit_lowered_while_calls_are_counted_refuses_until_enough_leave(settings):
    for limits, statuses in (("read=5/1m", [200] * 4), ("read=2/1m", [429])):
        app = create_app(replace(settings, rate_limits=parse_rate_limits(with_relaxed(limits))))
        async with app.test_app():
            client = app.test_client()
            responses = [await client.get("/genres/") for _ in statuses]
            assert [response.status_code for response in responses] == statuses
    await refused(responses[-1], "read")
    assert 55 <= int(responses[-1].headers["Retry-After"]) <= 60
