"""The policies of API.md's rate-limit table, their defaults, and SINPLUMA_RATE_LIMITS's overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Who a policy's counter belongs to. "user" falls back to the client address for a call without a
# valid token (such a call is refused with 401, but is still counted, so it is never unlimited).
Keying = Literal[
    "username+address", "username", "address", "session", "user", "user-or-address", "connection"
]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
OVERRIDE = re.compile(r"([a-z-]+)=([0-9]+)/([0-9]*)([smhd])")


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `amount` calls within any `seconds`."""

    amount: int
    seconds: int

    def per(self) -> str:
        """The window in words: "a second", "10 minutes"."""
        for size in sorted(UNIT_NAMES, reverse=True):
            if self.seconds % size == 0:
                count = self.seconds // size
                name = UNIT_NAMES[size]
                if count == 1:
                    return f"an {name}" if name == "hour" else f"a {name}"
                return f"{count} {name}s"
        raise AssertionError("every window is a whole number of seconds")  # pragma: no cover

    def __str__(self) -> str:
        return f"{self.amount} per {self.per().removeprefix('a ').removeprefix('an ')}"


@dataclass(frozen=True, slots=True)
class PolicyDefinition:
    """A row of API.md's table."""

    name: str
    counts: str
    keyed_by: Keying
    default: Rate


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy as it is in force: its name and its rate."""

    name: str
    rate: Rate


POLICIES: dict[str, PolicyDefinition] = {
    definition.name: definition
    for definition in (
        PolicyDefinition("login", "failed `POST /user/login`", "username+address", Rate(5, 600)),
        PolicyDefinition("login-account", "failed `POST /user/login`", "username", Rate(100, 3600)),
        PolicyDefinition("login-client", "every `POST /user/login`", "address", Rate(60, 60)),
        PolicyDefinition("register", "`POST /user/register`", "address", Rate(20, 3600)),
        PolicyDefinition("refresh", "`POST /user/token/refresh`", "session", Rate(20, 60)),
        PolicyDefinition("write", "every other `POST`, `PUT` and `DELETE`", "user", Rate(300, 60)),
        PolicyDefinition("upload", "image uploads", "user", Rate(60, 3600)),
        PolicyDefinition("search", "`GET /search`", "user-or-address", Rate(120, 60)),
        PolicyDefinition("read", "every other `GET`", "user-or-address", Rate(1200, 60)),
        PolicyDefinition("ws-connect", "websocket handshakes", "address", Rate(60, 60)),
        PolicyDefinition("ws-save", "websocket `save` messages", "connection", Rate(20, 1)),
    )
}


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """SINPLUMA_RATE_LIMITS: `off`, or the rates that replace some defaults."""

    off: bool = False
    overrides: tuple[tuple[str, Rate], ...] = ()

    def policies(self) -> dict[str, Policy]:
        """Every policy with the rate in force."""
        rates = {name: definition.default for name, definition in POLICIES.items()} | dict(self.overrides)
        return {name: Policy(name, rate) for name, rate in rates.items()}


def parse_rate_limits(text: str) -> RateLimitSettings:
    """`off`, or comma-separated `name=amount/window` (`login=10/10m,search=300/1m`; s, m, h, d).

    Raises ValueError for anything else: an unknown policy, a policy named twice, a zero.
    """
    if text.strip().lower() == "off":
        return RateLimitSettings(off=True)
    overrides: dict[str, Rate] = {}
    for item in (part.replace(" ", "") for part in text.split(",")):
        if not item:
            continue
        match = OVERRIDE.fullmatch(item)
        if match is None:
            raise ValueError(f"{item!r} is not name=amount/window, such as login=10/10m")
        name, amount, count, unit = match.groups()
        if name not in POLICIES:
            raise ValueError(f"there is no policy {name!r} (policies: {', '.join(POLICIES)})")
        if name in overrides:
            raise ValueError(f"{name} is given twice")
        rate = Rate(int(amount), int(count or 1) * UNITS[unit])
        if rate.amount < 1 or rate.seconds < 1:
            raise ValueError(f"{item!r}: the amount and the window must be above zero")
        overrides[name] = rate
    return RateLimitSettings(overrides=tuple(overrides.items()))
