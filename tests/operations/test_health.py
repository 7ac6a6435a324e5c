from __future__ import annotations


async def test_healthz_is_ok(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_readyz_checks_each_configured_dependency(client, backend):
    response = await client.get("/readyz")
    body = await response.get_json()
    assert response.status_code == 200
    expected = {"database": "ok", "storage": "ok"}
    if backend.name == "mariadb":
        expected["redis"] = "ok"
    assert body == {"status": "ok", "checks": expected}
