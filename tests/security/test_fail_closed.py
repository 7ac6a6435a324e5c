"""With Redis configured but down, protected routes answer 503; public ones keep working."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sinpluma_async import create_app
from tests.support import make_account, problem, settings_without_redis


@pytest.fixture
async def client(tmp_path, sqlite_template):
    settings = settings_without_redis(tmp_path, sqlite_template)
    app = create_app(replace(settings))
    async with app.test_app():
        yield app.test_client()


async def test_protected_route_is_503_with_retry_after(client):
    account = await make_account(client, "ana")
    response = await client.put("/user/settings", headers=account.headers, json={"bio": "x"})
    await problem(response, 503, "service_unavailable")
    assert int(response.headers["Retry-After"]) > 0


async def test_logout_is_503_not_a_silent_success(client):
    account = await make_account(client, "ana")
    await problem(await client.delete("/user/logout", headers=account.headers), 503, "service_unavailable")


async def test_public_routes_keep_working(client):
    await make_account(client, "ana")
    assert (await client.get("/user/ana")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200


async def test_readiness_names_redis(client):
    response = await client.get("/readyz")
    document = await problem(response, 503, "service_unavailable")
    assert document["checks"] == {"database": "embedded", "redis": "unavailable", "storage": "embedded"}
