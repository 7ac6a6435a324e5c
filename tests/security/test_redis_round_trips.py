"""An authenticated request costs one Redis round trip: its revocation keys and its rate limit together.

An anonymous request costs one at most (its rate limit), an exempt route none.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio.connection import AbstractConnection

from sinpluma_async import create_app
from sinpluma_async.ratelimits.policies import parse_rate_limits
from tests.support import PASSWORD, RELAXED_RATE_LIMITS, make_account

pytestmark = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


@pytest.fixture
def round_trips(monkeypatch):
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def command(sent: bytes) -> bytes:
    return sent.split(b"\r\n")[2].upper()


@pytest.fixture
async def unlimited_client(settings):
    app = create_app(replace(settings, rate_limits=parse_rate_limits("off")))
    async with app.test_app():
        yield app.test_client()


async def test_authenticated_request_makes_one_round_trip(client, writer, round_trips, settings):
    await client.get("/user/writer", headers=writer.headers)
    round_trips.clear()
    response = await client.get("/user/writer", headers=writer.headers)
    assert response.status_code == 200
    assert len(round_trips) == 1
    assert command(round_trips[0]) == b"EVALSHA"
    # The script reads both revocation keys and counts the call against the user.
    assert round_trips[0].count(b":revoked:") == 2
    assert f"{settings.redis_key_prefix}ratelimit:read:user:{writer.user_id}".encode() in round_trips[0]


@pytest.fixture
async def replicated_client(settings, second_mariadb_url, request):
    limits = parse_rate_limits(request.param) if hasattr(request, "param") else settings.rate_limits
    app = create_app(replace(settings, database_read_url=second_mariadb_url, rate_limits=limits))
    async with app.test_app():
        yield app.test_client()


@pytest.mark.parametrize("replicated_client", ["off", RELAXED_RATE_LIMITS], indirect=True)
async def test_with_a_replica_the_round_trip_also_reads_whether_the_user_wrote(
    replicated_client, round_trips, settings
):
    writer = await make_account(replicated_client, "writer")
    await replicated_client.get("/user/writer", headers=writer.headers)
    round_trips.clear()
    response = await replicated_client.get("/user/writer", headers=writer.headers)
    assert response.status_code == 200
    assert len(round_trips) == 1
    assert command(round_trips[0]) in (b"EVALSHA", b"MGET")
    assert round_trips[0].count(b":revoked:") == 2
    assert f"{settings.redis_key_prefix}wrote:{writer.user_id}".encode() in round_trips[0]


async def test_anonymous_limited_request_makes_one_round_trip(client, writer, round_trips):
    await client.get("/user/writer")
    round_trips.clear()
    response = await client.get("/user/writer")
    assert response.status_code == 200
    assert len(round_trips) == 1
    assert command(round_trips[0]) == b"EVALSHA" and b":revoked:" not in round_trips[0]


async def test_exempt_request_makes_no_round_trip(client, writer, round_trips):
    await client.get("/healthz")
    round_trips.clear()
    assert (await client.get("/healthz")).status_code == 200
    assert round_trips == []


async def test_failed_login_makes_one_round_trip_and_a_success_two(client, writer, round_trips):
    round_trips.clear()
    await client.post("/user/login", json={"username": "writer", "password": "wrong password"})
    assert [command(sent) for sent in round_trips] == [b"EVALSHA"]
    round_trips.clear()
    await client.post("/user/login", json={"username": "writer", "password": PASSWORD})
    # The attempt, then giving back the failure it was counted as.
    assert [command(sent) for sent in round_trips] == [b"EVALSHA", b"LREM"]


async def test_without_limits_an_authenticated_request_is_one_mget(unlimited_client, round_trips):
    account = await make_account(unlimited_client, "writer")
    await unlimited_client.get("/user/writer", headers=account.headers)
    round_trips.clear()
    response = await unlimited_client.get("/user/writer", headers=account.headers)
    assert response.status_code == 200
    assert len(round_trips) == 1
    assert command(round_trips[0]) == b"MGET"


async def test_without_limits_an_anonymous_request_makes_no_round_trip(unlimited_client, round_trips):
    await make_account(unlimited_client, "writer")
    round_trips.clear()
    await unlimited_client.get("/user/writer")
    assert round_trips == []
