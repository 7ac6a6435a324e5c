"""quart-schema validates with adapters kept per model (sinpluma_async/schema_adapters_once.py)."""

from __future__ import annotations

from sinpluma_async.schema_adapters_once import _kept_adapter
from tests.support import PASSWORD


async def test_a_request_validated_again_reuses_its_models_adapter(client, writer):
    login = {"username": writer.username, "password": PASSWORD}
    assert (await client.post("/user/login", json=login)).status_code == 200
    before = _kept_adapter.cache_info()
    assert (await client.post("/user/login", json=login)).status_code == 200
    after = _kept_adapter.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
