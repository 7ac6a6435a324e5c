"""Apps with small limits for the rate-limit tests, and what their answers must carry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

from quart.typing import TestClientProtocol

from sinpluma_async import create_app
from sinpluma_async.config import Settings
from sinpluma_async.ratelimits.policies import parse_rate_limits
from tests.support import RELAXED_RATE_LIMITS, problem

Limited = Callable[..., AbstractAsyncContextManager[TestClientProtocol]]
STATE = re.compile(r'^"(?P<policy>[a-z-]+)";r=(?P<remaining>[0-9]+);t=(?P<reset>[0-9]+)$')


def limited_app(settings: Settings) -> Limited:
    """`async with limited("read=2/1m") as client`: the test's backend with those limits (the others
    relaxed, as for every test), and any other setting changed."""

    @asynccontextmanager
    async def start(limits: str, **changes: Any) -> AsyncIterator[TestClientProtocol]:
        app = create_app(replace(settings, rate_limits=parse_rate_limits(with_relaxed(limits)), **changes))
        async with app.test_app():
            yield app.test_client()

    return start


def with_relaxed(limits: str) -> str:
    """SINPLUMA_RATE_LIMITS with these limits and, for every other policy, the tests' relaxed one."""
    if limits == "off":
        return limits
    relaxed = {item.split("=")[0]: item for item in RELAXED_RATE_LIMITS.split(",")}
    chosen = {item.split("=")[0]: item for item in limits.split(",")}
    return ",".join((relaxed | chosen).values())


def peer(address: str) -> dict[str, Any]:
    """`scope_base` of a call from this connection peer."""
    return {"scope_base": {"client": (address, 40000)}}


def state(response: Any) -> dict[str, Any]:
    """The `RateLimit` header, parsed; asserting `RateLimit-Policy` names the same policy."""
    match = STATE.match(response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    policy = response.headers["RateLimit-Policy"]
    assert policy.startswith(f'"{match["policy"]}";q='), policy
    return {"policy": match["policy"], "remaining": int(match["remaining"]), "reset": int(match["reset"])}


async def refused(response: Any, policy: str) -> dict[str, Any]:
    """Assert a 429 of this policy, with its Retry-After, and return the problem document."""
    document = await problem(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    current = state(response)
    assert current["policy"] == policy and current["remaining"] == 0
    assert current["reset"] == retry_after
    return document
