"""What the idempotency tests share: keyed requests, and holding a request inside the service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from quart.typing import TestClientProtocol

from sinpluma_async.notebooks import service as notebooks_service
from tests.support import Account

REPLAYED = "Idempotent-Replayed"


def keyed(account: Account | None, key: str) -> dict[str, str]:
    return {**(account.headers if account else {}), "Idempotency-Key": key}


async def post_notebook(
    client: TestClientProtocol, account: Account, key: str | None, title: str = "Cuaderno"
) -> Any:
    headers = keyed(account, key) if key is not None else account.headers
    return await client.post("/notebooks/", headers=headers, json={"title": title, "genre_id": 1})


async def notebook_count(client: TestClientProtocol, account: Account) -> int:
    response = await client.get("/notebooks/?scope=mine", headers=account.headers)
    assert response.status_code == 200
    total: int = (await response.get_json())["total"]
    return total


class HeldService:
    """Notebook creation that waits inside the service until released: a request in flight."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0
        original: Callable[..., Awaitable[Any]] = notebooks_service.create_notebook

        async def held(**arguments: Any) -> Any:
            self.calls += 1
            self.entered.set()
            await self.release.wait()
            return await original(**arguments)

        monkeypatch.setattr(notebooks_service, "create_notebook", held)
