from __future__ import annotations


async def test_healthz_is_ok(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_readyz_names_every_dependency(client, backend):
    response = await client.get("/readyz")
    assert response.status_code == 200
    state = "ok" if backend.name == "mariadb" else "embedded"
    expected = {"database": state, "redis": state, "storage": state}
    assert await response.get_json() == {"status": "ok", "checks": expected}
