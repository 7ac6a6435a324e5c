"""The data a run needs, made through the API before locust starts, so that none of it is measured:
an account for every writer and editor, and published notebooks for the readers.

Kept in a JSON file per host and reused by later runs against the same host when it has enough
accounts (registrations are limited per address where limits are on).
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from pathlib import Path
from typing import Any

import httpx

from loadtest.content import document

NOTEBOOKS_PER_AUTHOR = 2
PAGES_PER_NOTEBOOK = 5
CONCURRENCY = 16
TIMEOUT_SECONDS = 120


class SetupError(RuntimeError):
    """The API refused a set-up step."""


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise SetupError(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def register(client: httpx.AsyncClient, username: str, password: str) -> None:
    body = {"username": username, "email": f"{username}@load.example.com", "password": password}
    expect(await client.post("/user/register", json=body), 201)


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    tokens = expect(await client.post("/user/login", json={"username": username, "password": password}), 200)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def published_notebook(client: httpx.AsyncClient, headers: dict[str, str], rng: random.Random) -> int:
    """A published notebook of PAGES_PER_NOTEBOOK published pages of 5-20 KB each."""
    body = {"title": f"Cuaderno {rng.randint(1, 999)}", "genre_id": rng.randint(1, 10), "resume": "Carga"}
    notebook_id = expect(await client.post("/notebooks/", headers=headers, json=body), 201)["notebook_id"]
    for number in range(1, PAGES_PER_NOTEBOOK + 1):
        content = document(rng, rng.randint(5 * 1024, 20 * 1024))
        page = {"notebook_id": notebook_id, "title": f"Capítulo {number}", "content": content}
        page_id = expect(await client.post("/pages/", headers=headers, json=page), 201)["page_id"]
        expect(await client.post(f"/pages/{page_id}/publish", headers=headers), 200)
    published = await client.put(f"/notebooks/{notebook_id}", headers=headers, json={"status": "published"})
    expect(published, 200)
    return int(notebook_id)


async def author(client: httpx.AsyncClient, username: str, password: str, seed: int) -> list[int]:
    await register(client, username, password)
    headers = await login(client, username, password)
    rng = random.Random(seed)
    return [await published_notebook(client, headers, rng) for _ in range(NOTEBOOKS_PER_AUTHOR)]


async def build(host: str, accounts: int, authors: int) -> dict[str, Any]:
    """Register `accounts` writers' accounts and `authors` authors of published notebooks."""
    run = secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(step: Any) -> Any:
        async with limit:
            return await step

    async with httpx.AsyncClient(base_url=host, timeout=TIMEOUT_SECONDS) as client:
        writers = [f"load_{run}_w{index}" for index in range(accounts)]
        names = [f"load_{run}_a{index}" for index in range(authors)]
        await asyncio.gather(*(bounded(register(client, name, password)) for name in writers))
        notebooks = await asyncio.gather(
            *(bounded(author(client, name, password, seed)) for seed, name in enumerate(names))
        )
    return {
        "host": host,
        "password": password,
        "accounts": writers,
        "authors": names,
        "notebooks": [notebook_id for ids in notebooks for notebook_id in ids],
    }


def prepare(host: str, accounts: int, authors: int, path: Path) -> dict[str, Any]:
    """The fixtures in `path` when they are for `host` and hold enough accounts; else new ones."""
    if path.exists():
        kept: dict[str, Any] = json.loads(path.read_text())
        if kept.get("host") == host and len(kept.get("accounts", ())) >= accounts:
            return kept
    fixtures = asyncio.run(build(host, accounts, authors))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fixtures, indent=1))
    return fixtures
