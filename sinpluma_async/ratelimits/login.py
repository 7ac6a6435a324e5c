"""Logins under their three policies: counted once the account is known, before any password check.

`login-client` counts every attempt from an address; `login` (per account and address) and
`login-account` (per account) count failures. A failure is counted when the attempt starts, so
that concurrent guesses cannot all pass before the first of them fails, and a right password
gives it back. A locked login is refused before bcrypt runs, for existing and unknown accounts alike.
"""

from __future__ import annotations

from typing import TypeVar

from quart import g

from sinpluma_async.openapi import RATE_LIMIT_ATTRIBUTE
from sinpluma_async.ratelimits.counting import Hit, Tally
from sinpluma_async.ratelimits.http import STATE, settle
from sinpluma_async.ratelimits.limiter import RateLimits
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.clients import current_client_address

LOGIN_POLICIES = ("login-client", "login", "login-account")
FAILURE_POLICIES = frozenset({"login", "login-account"})
View = TypeVar("View")


def login_rate_limits(view: View) -> View:
    """Declare the login policies, which `LoginAttempts` counts once the route knows the account."""
    setattr(view, RATE_LIMIT_ATTRIBUTE, LOGIN_POLICIES)
    return view


class LoginAttempts:
    """One `POST /user/login` under the login policies (nothing is counted when limits are off)."""

    def __init__(self, limits: RateLimits | None, address: str) -> None:
        self._limits = limits
        self._address = address
        self._tally: Tally | None = None

    @classmethod
    def of_request(cls) -> LoginAttempts:
        return cls(current_runtime().rate_limits, current_client_address())

    async def admit(self, account: str) -> None:
        """Count the attempt (one round trip); 429 while the account is locked for this caller."""
        if self._limits is None:
            return
        policies = self._limits.policies
        hits = [
            Hit(policies["login-client"], self._address),
            Hit(policies["login"], f"{account}@{self._address}", conditional=True),
            Hit(policies["login-account"], account, conditional=True),
        ]
        self._tally = await self._limits.counters.count(hits)
        settle(self._tally)

    async def succeeded(self) -> None:
        """Give back the failure counted when the attempt started."""
        if self._limits is None or self._tally is None:
            return
        await self._limits.counters.refund(self._tally, FAILURE_POLICIES)
        setattr(g, STATE, self._tally.without(FAILURE_POLICIES).nearest())
