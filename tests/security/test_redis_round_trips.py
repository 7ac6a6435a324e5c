"""An authenticated request costs one Redis round trip: every revocation key in one MGET."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import AbstractConnection


@pytest.fixture
def round_trips(monkeypatch):
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_authenticated_request_makes_one_round_trip(client, writer, round_trips):
    await client.get("/user/writer", headers=writer.headers)
    round_trips.clear()
    response = await client.get("/user/writer", headers=writer.headers)
    assert response.status_code == 200
    assert len(round_trips) == 1
    assert round_trips[0].split(b"\r\n")[2].upper() == b"MGET"


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_anonymous_request_makes_no_round_trip(client, writer, round_trips):
    round_trips.clear()
    await client.get("/user/writer")
    assert round_trips == []
