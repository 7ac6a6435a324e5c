"""Each route's policy, declared beside the route: counted before it runs, its 429 and its headers.

A call is counted against its user when it carries a valid access token (in the round trip that
checks the token's revocations), else against its client address (`current_client_address`, which
believes `X-Forwarded-For` only from SINPLUMA_TRUSTED_PROXIES); `refresh` is counted per session.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from types import MappingProxyType
from typing import Any, TypeVar, cast

from quart import Quart, Response, g

from sinpluma_async.config import Settings
from sinpluma_async.errors import UnauthorizedError, rate_limited
from sinpluma_async.observability.metrics import RATE_LIMITED
from sinpluma_async.openapi import ACCESS_ATTRIBUTE, RATE_LIMIT_ATTRIBUTE, RATE_LIMIT_EXEMPT_ATTRIBUTE
from sinpluma_async.ratelimits.counting import Count, Counters, Hit, Tally
from sinpluma_async.ratelimits.policies import POLICIES, Policy
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import authenticate, bearer_token
from sinpluma_async.security.clients import current_client_address
from sinpluma_async.security.revocation import Standing
from sinpluma_async.security.tokens import Claims, TokenCodec, TokenType

View = TypeVar("View", bound=Callable[..., Any])
GenerationKeys = Callable[[], Sequence[str]]
STATE = "rate_limit"
GENERATIONS_READ = "generations_read"
NONE_READ: Mapping[str, bytes] = MappingProxyType({})
log = logging.getLogger(__name__)


def rate_limit(name: str, *, generations: GenerationKeys | None = None) -> Callable[[View], View]:
    """Count every call of the route under policy `name` before the route runs (429 when exhausted).

    Goes above the route's access decorator, whose access it reads. `generations` names, for the
    request, the generation keys to read in the same round trip (`generations_read`).
    """
    if POLICIES[name].keyed_by not in ("address", "session", "user", "user-or-address"):
        raise ValueError(f"policy {name} is not counted per route")

    def decorator(view: View) -> View:
        access = getattr(view, ACCESS_ATTRIBUTE, None)
        if access is None:
            raise TypeError(f"@rate_limit({name!r}) goes above the access decorator of {view.__name__}")

        @wraps(view)
        async def limited(*args: Any, **kwargs: Any) -> Any:
            await admit(name, access, generations() if generations else ())
            return await view(*args, **kwargs)

        setattr(limited, RATE_LIMIT_ATTRIBUTE, (name,))
        return cast(View, limited)

    return decorator


def rate_limit_exempt(reason: str) -> Callable[[View], View]:
    """Declare that a route has no rate limit, and why (API.md exempts a few operational routes)."""

    def decorator(view: View) -> View:
        setattr(view, RATE_LIMIT_EXEMPT_ATTRIBUTE, reason)
        return view

    return decorator


async def admit(name: str, access: str, generations: Sequence[str] = ()) -> None:
    """Count this call under policy `name`: a 429 when it does not fit."""
    runtime = current_runtime()
    limits = runtime.rate_limits
    if limits is None:
        return
    policy = limits.policies[name]
    keyed_by = POLICIES[name].keyed_by
    if keyed_by == "address":
        key = address_key()
    elif keyed_by == "session":
        claims = signed_claims(runtime.tokens, "refresh")
        key = f"session:{claims.sid}" if claims else address_key()
    elif access == "public":
        # The route ignores who calls: a valid signature is enough to choose the counter.
        claims = signed_claims(runtime.tokens, "access")
        key = user_key(claims.user_id) if claims else address_key()
    else:
        settle(await count_with_token(limits.counters, policy, generations))
        return
    settle(await limits.counters.count([Hit(policy, key)], generations=generations))


async def count_with_token(counters: Counters, policy: Policy, generations: Sequence[str] = ()) -> Tally:
    """Count the call against the user of its access token, in the round trip that checks it."""
    check = CountingRevocationCheck(counters, policy, generations)
    try:
        identity = await authenticate(required=False, revocations=check)
    except UnauthorizedError:
        # A refused token is still a call: counted against its address when not against a user.
        settle(check.tally or await counters.count([Hit(policy, address_key())]))
        raise
    if identity is None or check.tally is None:
        return await counters.count([Hit(policy, address_key())], generations=generations)
    return check.tally


class CountingRevocationCheck:
    """A token's revocation check that also counts the call against the token's user."""

    def __init__(self, counters: Counters, policy: Policy, generations: Sequence[str] = ()) -> None:
        self._counters = counters
        self._policy = policy
        self._generations = generations
        self.tally: Tally | None = None

    async def standing(self, claims: Claims) -> Standing:
        hit = Hit(self._policy, user_key(claims.user_id))
        self.tally = await self._counters.count([hit], token=claims, generations=self._generations)
        return Standing(self.tally.revoked, self.tally.wrote_recently)


def settle(tally: Tally) -> None:
    """Keep the count nearest its limit for the response's headers, and the generations read;
    429 when the call did not fit."""
    nearest = tally.nearest()
    setattr(g, STATE, nearest)
    setattr(g, GENERATIONS_READ, tally.generations)
    if not tally.admitted:
        RATE_LIMITED.labels(nearest.policy.name).inc()
        raise rate_limited(nearest.policy.name, retry_after=nearest.wait, headers=state_headers(nearest))


def state_headers(count: Count) -> dict[str, str]:
    """`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) for one count."""
    name, rate = count.policy.name, count.policy.rate
    return {
        "RateLimit-Policy": f'"{name}";q={rate.amount};w={rate.seconds}',
        "RateLimit": f'"{name}";r={count.remaining};t={math.ceil(count.wait)}',
    }


def signed_claims(tokens: TokenCodec, expected: TokenType) -> Claims | None:
    """The claims of the request's bearer token if its signature and type hold, else None."""
    try:
        token = bearer_token()
        return None if token is None else tokens.decode(token, expected=expected)
    except UnauthorizedError:
        return None


def generations_read() -> Mapping[str, bytes]:
    """The generations this request's round trip read, by key (none when it read none)."""
    read: Mapping[str, bytes] = g.get(GENERATIONS_READ, NONE_READ)
    return read


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


def address_key() -> str:
    return f"address:{current_client_address()}"


async def add_state_headers(response: Response) -> Response:
    count: Count | None = g.get(STATE)
    if count is not None:
        response.headers.update(state_headers(count))
    return response


def install_rate_limits(app: Quart, settings: Settings) -> None:
    """Every limited route's responses carry the rate-limit headers of its call."""
    if settings.rate_limits.off:
        log.warning("SINPLUMA_RATE_LIMITS is off: no rate limit is enforced (load tests only)")
    app.after_request(add_state_headers)
