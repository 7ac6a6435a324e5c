"""Where keys are kept: Redis round trips, Redis being down, and the in-process store's expiry."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from sinpluma_async import create_app
from sinpluma_async.idempotency.stores import MemoryIdempotencyStore, RedisIdempotencyStore
from tests.idempotency.support import REPLAYED, post_notebook
from tests.support import PASSWORD, problem, redis_key_prefix, settings_without_redis, wait_until


@pytest.fixture
def idempotency_round_trips(monkeypatch):
    """Every command sent to Redis that touches an idempotency slot."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):
        packed = command if isinstance(command, bytes) else b"".join(command)
        if b"idempotency:" in packed:
            sent.append(packed)
        return await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_keyed_request_costs_two_round_trips_and_a_replay_one(
    client, writer, idempotency_round_trips
):
    await post_notebook(client, writer, "warm-up")  # loads the scripts into Redis once
    idempotency_round_trips.clear()
    assert (await post_notebook(client, writer, "k-1")).status_code == 201
    assert len(idempotency_round_trips) == 2
    assert b"SET" in idempotency_round_trips[0] and b"NX" in idempotency_round_trips[0]
    idempotency_round_trips.clear()
    assert (await post_notebook(client, writer, "k-1")).headers[REPLAYED] == "true"
    assert len(idempotency_round_trips) == 1


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_an_unkeyed_request_never_asks_the_store(client, writer, idempotency_round_trips):
    assert (await post_notebook(client, writer, None)).status_code == 201
    assert idempotency_round_trips == []


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_record_lives_24_hours_in_redis(app, client, writer):
    assert (await post_notebook(client, writer, "k-1")).status_code == 201
    redis = app.extensions["sinpluma"].redis
    prefix = app.extensions["sinpluma"].settings.redis_key_prefix
    [slot] = [key async for key in redis.scan_iter(match=f"{prefix}idempotency:*")]
    assert 24 * 3600 * 1000 - 60_000 < await redis.pttl(slot) <= 24 * 3600 * 1000


@pytest.fixture
async def client_without_redis(tmp_path, sqlite_template):
    """Redis configured but not answering."""
    settings = settings_without_redis(tmp_path, sqlite_template)
    app = create_app(settings)
    async with app.test_app():
        yield app.test_client()


async def test_a_keyed_request_is_503_while_redis_is_down_and_runs_nothing(client_without_redis):
    body = {"username": "ana", "email": "ana@example.com", "password": PASSWORD}
    keyed = await client_without_redis.post("/user/register", headers={"Idempotency-Key": "k"}, json=body)
    await problem(keyed, 503, "service_unavailable")
    assert int(keyed.headers["Retry-After"]) >= 1
    assert (await client_without_redis.get("/user/ana")).status_code == 404
    assert (await client_without_redis.post("/user/register", json=body)).status_code == 201


async def test_the_memory_store_forgets_at_expiry(monkeypatch):
    now = 1000.0
    monkeypatch.setattr("sinpluma_async.idempotency.stores.time.monotonic", lambda: now)
    store = MemoryIdempotencyStore()
    assert await store.claim("slot", b"Mone", 60) is None
    assert await store.claim("slot", b"Mtwo", 60) == b"Mone"
    await store.complete("slot", b"Mone", b"Rrecord", 24 * 3600)
    now += 24 * 3600 - 1
    assert await store.claim("slot", b"Mtwo", 60) == b"Rrecord"
    now += 2
    assert await store.claim("slot", b"Mtwo", 60) is None


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        yield MemoryIdempotencyStore()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisIdempotencyStore(redis, redis_key_prefix())
    await redis.aclose()


async def test_only_the_marker_holder_renews_releases_or_completes(store):
    assert await store.claim("slot", b"Mone", 60) is None
    await store.release("slot", b"Mother")
    await store.complete("slot", b"Mother", b"Rrecord", 60)
    assert await store.claim("slot", b"Mtwo", 60) == b"Mone"
    await store.release("slot", b"Mone")
    assert await store.claim("slot", b"Mtwo", 60) is None
    await store.complete("slot", b"Mtwo", b"Rrecord", 60)
    await store.renew("slot", b"Mtwo", 60)
    assert await store.claim("slot", b"Mthree", 60) == b"Rrecord"


async def test_a_marker_expires_unless_renewed(store):
    assert await store.claim("slot", b"Mone", 0.2) is None
    await store.renew("slot", b"Mone", 60)
    assert await store.claim("slot", b"Mtwo", 60) == b"Mone"
    assert await store.claim("other", b"Mone", 0.05) is None

    async def expired():
        return await store.claim("other", b"Mtwo", 60) is None

    await wait_until(expired)
