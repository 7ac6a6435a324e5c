"""A signed-in user of the load test: its account, its tokens, renewing them before they expire.

Writers and editors sign in the same way; each takes an account of its own from the fixtures.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.runners import WorkerRunner

_taken = itertools.count()


def next_account(environment: Environment, fixtures: dict[str, Any]) -> str:
    """An account no other user of this run holds while there are enough (each process of a
    distributed run takes every n-th one, from its own index)."""
    accounts: list[str] = fixtures["accounts"]
    runner = environment.runner
    index = next(_taken)
    if isinstance(runner, WorkerRunner):
        processes = max(1, int(getattr(environment.parsed_options, "processes", 1) or 1))
        index = runner.worker_index + index * processes
    return accounts[index % len(accounts)]


@dataclass
class Session:
    """Tokens of one login, and when to renew them: `renew_after` seconds in, or at 80 % of their
    life when that is sooner, as the app does."""

    client: FastHttpSession
    renew_after: float
    access_token: str = ""
    refresh_token: str = ""
    renew_at: float = field(default=0.0)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def login(self, username: str, password: str) -> None:
        response = self.client.post(
            "/user/login", json={"username": username, "password": password}, name="/user/login"
        )
        response.raise_for_status()
        self._keep(response.json())

    def renew_if_due(self) -> bool:
        """Rotate the tokens when they are due; whether it did."""
        if time.monotonic() < self.renew_at:
            return False
        response = self.client.post(
            "/user/token/refresh",
            headers={"Authorization": f"Bearer {self.refresh_token}"},
            name="/user/token/refresh",
        )
        response.raise_for_status()
        self._keep(response.json())
        return True

    def logout(self) -> None:
        if self.access_token:
            self.client.delete("/user/logout", headers=self.headers, name="/user/logout")
            self.access_token = self.refresh_token = ""

    def _keep(self, tokens: dict[str, Any]) -> None:
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.renew_at = time.monotonic() + min(self.renew_after, 0.8 * float(tokens["expires_in"]))
