"""Concurrent duplicates on two live processes sharing MariaDB and Redis: one notebook, never two."""

from __future__ import annotations

import asyncio

import httpx

from tests.test_live_servers import login_on

ATTEMPTS = 8


async def test_concurrent_duplicates_on_two_processes_create_one_notebook(live_servers):
    first, second = live_servers
    tokens = login_on(first)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(server, key):
            return await http.post(
                f"{server.url}/notebooks/",
                headers={**headers, "Idempotency-Key": key},
                json={"title": f"Cuaderno {key}", "genre_id": 1},
            )

        for attempt in range(ATTEMPTS):
            key = f"dup-{attempt}"
            answers = await asyncio.gather(post(first, key), post(second, key))
            originals = [
                a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers
            ]
            assert len(originals) == 1, [(a.status_code, a.text) for a in answers]
            [other] = [a for a in answers if a is not originals[0]]
            if other.status_code == 201:
                assert other.headers["idempotent-replayed"] == "true" and other.json() == originals[0].json()
            else:
                assert other.status_code == 409 and other.json()["code"] == "idempotency_key_in_progress"
            later = await post(second if attempt % 2 else first, key)
            assert later.headers["idempotent-replayed"] == "true" and later.json() == originals[0].json()
        mine = await http.get(f"{first.url}/notebooks/?scope=mine&per_page=100", headers=headers)
    assert mine.json()["total"] == ATTEMPTS
